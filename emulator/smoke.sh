#!/bin/sh
# emulator/smoke.sh: starts build/seedream-emulator on a free port, exercises every endpoint
# with curl, stops it with SIGTERM and exits non-zero on any failure.
#
#   sh emulator/smoke.sh                       # plain
#   EMU_WRAPPER="valgrind --leak-check=full --error-exitcode=1" sh emulator/smoke.sh
#
# Needs only sh, curl, grep, sed. EMU_BIN overrides the binary.
set -u
BIN=${EMU_BIN:-build/seedream-emulator}
WRAP=${EMU_WRAPPER:-}
KEY=smoke-key
TMP=$(mktemp -d)
FAILS=0
CHECKS=0
PID=

cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID"; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

bad() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# check DESCRIPTION TEXT REGEX: TEXT must match the extended regex.
check() {
  CHECKS=$((CHECKS + 1))
  if printf '%s' "$2" | grep -qE -- "$3"; then :; else
    bad "$1: expected /$3/ in: $(printf '%s' "$2" | cut -c1-400)"
  fi
}
# check_not DESCRIPTION TEXT REGEX: TEXT must not match.
check_not() {
  CHECKS=$((CHECKS + 1))
  if printf '%s' "$2" | grep -qE -- "$3"; then bad "$1: unexpected /$3/ in: $(printf '%s' "$2" | cut -c1-400)"; fi
}
uuid() { cat /proc/sys/kernel/random/uuid; }
# POST a body file to /v1 with the key; prints the body, a newline and the status.
postf() { curl -s -w '\n%{http_code}' -X POST "$U" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "@$1"; }
post() { printf '%s' "$1" > "$TMP/body.json"; postf "$TMP/body.json"; }
status() { printf '%s' "$1" | tail -n 1; }
field() { printf '%s' "$1" | grep -oE "\"$2\":\"[^\"]*\"" | head -n 1 | sed -E "s/^\"$2\":\"(.*)\"$/\1/"; }
stat() { curl -s "$B/stats" | grep -oE "\"$1\":[0-9.]+" | sed 's/.*://'; }
task() { # task UUID EXTRA_JSON: an imageInference task object
  printf '{"taskType":"imageInference","taskUUID":"%s","model":"bytedance:seedream@5.0-lite","positivePrompt":"smoke test lighthouse","width":2560,"height":1440%s}' "$1" "$2"
}

# ---- start ----
$WRAP "$BIN" --port 0 --api-key "$KEY" --quiet --ttl-unit-ms 20 > "$TMP/url" 2> "$TMP/err" &
PID=$!
i=0
while [ ! -s "$TMP/url" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
U=$(head -n 1 "$TMP/url")
check "startup line" "$U" '^http://127\.0\.0\.1:[0-9]+/v1$'
B=${U%/v1}
[ -n "$U" ] || { cat "$TMP/err" >&2; exit 1; }

# ---- auth and request shape ----
r=$(curl -s -w '\n%{http_code}' -X POST "$U" --data-binary '[]')
check "no key: 401" "$(status "$r")" '^401$'
check "no key: code" "$r" '"code":"invalidApiKey"'
r=$(curl -s -w '\n%{http_code}' -X POST "$U" -H 'Authorization: Bearer wrong' --data-binary '[]')
check "bad key: 401" "$(status "$r")" '^401$'
check "bad key: code" "$r" '"code":"invalidApiKey"'
r=$(post '[{"taskType":')
check "malformed json" "$r" '"code":"invalidRequestBody"'
check "malformed json: 400" "$(status "$r")" '^400$'
r=$(post "$(task "$(uuid)" '')")
check "object instead of array" "$r" '"code":"invalidRequestBody"'
r=$(post "[$(task "$(uuid)" '')]}{garbage")
check "text after the JSON value: 400" "$(status "$r")" '^400$'
r=$(post "[$(task "$(uuid)" ',"numberResults":2,"numberResults":9')]")
check "a repeated key: 400" "$(status "$r")" '^400$'
check "a repeated key: said" "$r" 'repeats a key'
T0=$(uuid)
post "[$(task "$T0" '')]" > /dev/null
r=$(post "[$(task "$(printf '%s' "$T0" | tr 'a-f' 'A-F')" '')]")
check "the same taskUUID in capitals: conflict" "$r" '"code":"conflictTaskUUID"'

# ---- sync imageInference, URL output ----
T1=$(uuid)
r=$(post "[$(task "$T1" ',"includeCost":true,"safety":{"checkContent":true}')]")
check "sync: 200" "$(status "$r")" '^200$'
check "sync: imageURL" "$r" "\"imageURL\":\"$B/image/[0-9a-f-]{36}\\.jpg\""
check "sync: taskUUID" "$r" "\"taskUUID\":\"$T1\""
check "sync: seed" "$r" '"seed":[0-9]+'
check "sync: cost" "$r" '"cost":0\.035'
check "sync: NSFWContent" "$r" '"NSFWContent":false'
IMG_URL=$(field "$r" imageURL)
IMG_UUID=$(field "$r" imageUUID)
h=$(curl -s -o "$TMP/img.jpg" -w '%{http_code} %{content_type}' "$IMG_URL")
check "GET image" "$h" '^200 image/jpeg'
check "GET image: JPEG bytes" "$(head -c 3 "$TMP/img.jpg" | od -An -tx1 | tr -d ' \n')" '^ffd8ff'
h=$(curl -s -o /dev/null -w '%{http_code}' "$B/image/$(uuid).jpg")
check "GET unknown image: 404" "$h" '^404$'
h=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$IMG_URL")
check "GET image with auth" "$h" '^200$'
check "image_gets_with_auth" "$(stat image_gets_with_auth)" '^1$'

# same prompt, same seeds
r2=$(post "[$(task "$(uuid)" '')]")
check "same prompt, same seed" "$(printf '%s' "$r" | grep -oE '"seed":[0-9]+')" "^$(printf '%s' "$r2" | grep -oE '"seed":[0-9]+')\$"

# ---- validation ----
r=$(post "[$(task "$(uuid)" '' | sed 's/"width":2560/"width":1024/')]")
check "too few pixels" "$r" '"code":"invalidParameter".*"parameter":"width"'
check "too few pixels: 400" "$(status "$r")" '^400$'
r=$(post "[$(task "$(uuid)" '' | sed 's/seedream@5.0-lite/seedream@4.0/')]")
check "wrong model" "$r" '"code":"invalidModel"'
r=$(post "[$(task "$(uuid)" '' | sed 's/"positivePrompt":"smoke test lighthouse",//')]")
check "missing prompt" "$r" '"code":"missingParameter".*"parameter":"positivePrompt"'
r=$(post "[$(task "$(uuid)" ',"numberResult":2')]")
check "unknown key" "$r" '"code":"unsupportedParameter".*"parameter":"numberResult"'
r=$(post "[$(task "$(uuid)" ',"outputQuality":10')]")
check "quality range" "$r" '"parameter":"outputQuality"'
r=$(post "[$(task "$(uuid)" ',"outputType":"base64Data","ttl":60')]")
check "ttl needs URL" "$r" '"parameter":"ttl"'
r=$(post "[$(task "$(uuid)" ',"ttl":3000000000')]")
check "ttl has no maximum" "$r" '"imageURL"'
r=$(post "[$(task "$(uuid)" ',"ttl":59')]")
check "ttl below 60" "$r" "must be at least 60"
r=$(post "[$(task "$(uuid)" ',"providerSettings":{"bytedance":{"maxSequentialImages":16}}')]")
check "maxSequentialImages range" "$r" '"parameter":"providerSettings.bytedance.maxSequentialImages"'
r=$(post "[$(task "$(uuid)" ',"width":1440' | sed 's/"width":2560,//')]")
check "aspect/pixels via height" "$r" '"code":"invalidParameter"'
r=$(post "[$(task "$(uuid)" ',"width":480,"height":8160' | sed 's/"width":2560,"height":1440,//')]")
check "aspect names the longer side" "$r" '"parameter":"height"'
r=$(post "[$(task "$(uuid)" ',"webhookURL":"http://[]/x"')]")
check "webhookURL with an empty IPv6 host" "$r" '"parameter":"webhookURL"'
r=$(post "[{\"taskType\":\"imageInference\",\"taskUUID\":\"not-a-uuid\"}]")
check "bad taskUUID" "$r" '"parameter":"taskUUID"'
LONG=$(head -c 2001 /dev/zero | tr '\0' 'a')
r=$(post "[$(task "$(uuid)" '' | sed "s/smoke test lighthouse/$LONG/")]")
check "prompt too long" "$r" '"parameter":"positivePrompt"'

# ---- conflictTaskUUID, mixed success and error ----
r=$(post "[$(task "$T1" ''),$(task "$(uuid)" '')]")
check "conflict: 200 with data" "$(status "$r")" '^200$'
check "conflict: error" "$r" "\"code\":\"conflictTaskUUID\".*\"taskUUID\":\"$T1\""
check "duplicates counted" "$(stat duplicates)" '^2$'   # and the capitals one above

# ---- series ----
r=$(post "[$(task "$(uuid)" ',"numberResults":2,"providerSettings":{"bytedance":{"maxSequentialImages":3}}')]")
check "numberResults x maxSequentialImages = 6" "$(printf '%s' "$r" | grep -o '"imageUUID"' | wc -l | tr -d ' ')" '^6$'

# ---- async + getResponse ----
T2=$(uuid)
r=$(post "[$(task "$T2" ',"deliveryMethod":"async"')]")
check "async ack" "$r" "\"taskUUID\":\"$T2\",\"status\":\"processing\""
r=$(post "[{\"taskType\":\"getResponse\",\"taskUUID\":\"$T2\"},{\"taskType\":\"getResponse\",\"taskUUID\":\"$(uuid)\"}]")
check "poll: success" "$r" "\"taskUUID\":\"$T2\",\"status\":\"success\",\"imageUUID\""
check "poll: unknown task" "$r" '"code":"taskNotFound"'
check "poll: 200" "$(status "$r")" '^200$'
check "poll_requests" "$(stat poll_requests)" '^1$'
r=$(post "[{\"taskType\":\"getResponse\",\"taskUUID\":\"$T1\"}]")
check "sync tasks can be polled" "$r" "\"status\":\"success\",\"imageUUID\":\"$IMG_UUID\""

# ---- output types and formats ----
r=$(post "[$(task "$(uuid)" ',"outputType":"base64Data","outputFormat":"PNG"')]")
check "base64Data PNG" "$r" '"imageBase64Data":"iVBORw0KGgo'
check_not "base64Data has no URL" "$r" '"imageURL"'
r=$(post "[$(task "$(uuid)" ',"outputType":"dataURI","outputFormat":"WEBP","outputQuality":50')]")
check "dataURI WEBP" "$r" '"imageDataURI":"data:image/webp;base64,UklGR'
task "$(uuid)" ',"inputs":{"referenceImages":["' | sed 's/}$//; s/^/[/' > "$TMP/webp.json"
printf '%s' "$r" | grep -oE '"imageDataURI":"[^"]*"' | sed -E 's/^"imageDataURI":"(.*)"$/\1/' | tr -d '\n' >> "$TMP/webp.json"
printf '"]}}]' >> "$TMP/webp.json"
check "WEBP data URI as a reference" "$(status "$(postf "$TMP/webp.json")")" '^200$'
r=$(post "[$(task "$(uuid)" ',"outputFormat":"WEBP"')]")
h=$(curl -s -o "$TMP/img.webp" -w '%{http_code} %{content_type}' "$(field "$r" imageURL)")
check "GET webp" "$h" '^200 image/webp'

# ---- imageUpload and references ----
PNG32='iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAFiUlEQVR42g3NkfODUADA8bCLBsGoCx920SAYdeHDXTQIoi58+L1oEIy68GEXDYJRN3zYRUEQdcNh+Pt9/oGPZVnYFieLs4VvISwCi4vF1SKxkBY3i7tFblFaKAssHhZPi9ZCW3QWL4u3xcfCWEwWi8Vm8bX4WRwWluVgO5wczg6+g3AIHC4OV4fEQTrcHO4OuUPpoBxweDg8HVoH7dA5vBzeDh8H4zA5LA6bw9fh53A4/4GL7XJyObv4LsIlcLm4XF0SF+lyc7m75C6li3LB5eHydGldtEvn8nJ5u3xcjMvksrhsLl+Xn8vh/gcetsfJ4+zhewiPwOPicfVIPKTHzePukXuUHsoDj4fH06P10B6dx8vj7fHxMB6Tx+KxeXw9fh6H9x8IbMFJcBb4AiEIBBfBVZAIpOAmuAtyQSlQAgQPwVPQCrSgE7wEb8FHYASTYBFsgq/gJzjEfxBih5xCziF+iAgJQi4h15AkRIbcQu4heUgZokIIeYQ8Q9oQHdKFvELeIZ8QEzKFLCFbyDfkF3KE/0GEHXGKOEf4ESIiiLhEXCOSCBlxi7hH5BFlhIog4hHxjGgjdEQX8Yp4R3wiTMQUsURsEd+IX8QR/Qcxdswp5hzjx4iYIOYSc41JYmTMLeYek8eUMSqGmEfMM6aN0TFdzCvmHfOJMTFTzBKzxXxjfjFH/B9IbMlJcpb4EiEJJBfJVZJIpOQmuUtySSlREiQPyVPSSrSkk7wkb8lHYiSTZJFskq/kJznkf5Bip5xSzil+ikgJUi4p15QkRabcUu4peUqZolJIeaQ8U9oUndKlvFLeKZ8UkzKlLClbyjfll3Kk/0GGnXHKOGf4GSIjyLhkXDOSDJlxy7hn5Bllhsog45HxzGgzdEaX8cp4Z3wyTMaUsWRsGd+MX8aR/QcFdsGp4FzgF4iCoOBScC1ICmTBreBekBeUBaqAgkfBs6At0AVdwavgXfApMAVTwVKwFXwLfgVH8R8obMVJcVb4CqEIFBfFVZEopOKmuCtyRalQChQPxVPRKrSiU7wUb8VHYRSTYlFsiq/ipzjUf1BhV5wqzhV+hagIKi4V14qkQlbcKu4VeUVZoSqoeFQ8K9oKXdFVvCreFZ8KUzFVLBVbxbfiV3FU/0GNXXOqOdf4NaImqLnUXGuSGllzq7nX5DVljaqh5lHzrGlrdE1X86p513xqTM1Us9RsNd+aX81R/wcNdsOp4dzgN4iGoOHScG1IGmTDreHekDeUDaqBhkfDs6Ft0A1dw6vh3fBpMA1Tw9KwNXwbfg1H8x9obM1Jc9b4GqEJNBfNVZNopOamuWtyTalRGjQPzVPTarSm07w0b81HYzSTZtFsmq/mpzn0f9Bj95x6zj1+j+gJei49156kR/bceu49eU/Zo3roefQ8e9oe3dP1vHrePZ8e0zP1LD1bz7fn13P0/8GAPXAaOA/4A2IgGLgMXAeSATlwG7gP5APlgBpg4DHwHGgH9EA38Bp4D3wGzMA0sAxsA9+B38Ax/Acj9shp5Dzij4iRYOQych1JRuTIbeQ+ko+UI2qEkcfIc6Qd0SPdyGvkPfIZMSPTyDKyjXxHfiPH+B8YbMPJcDb4BmEIDBfD1ZAYpOFmuBtyQ2lQBgwPw9PQGrShM7wMb8PHYAyTYTFshq/hZzjMfzBjz5xmzjP+jJgJZi4z15lkRs7cZu4z+Uw5o2aYecw8Z9oZPdPNvGbeM58ZMzPNLDPbzHfmN3PM/8GKvXJaOa/4K2IlWLmsXFeSFblyW7mv5Cvlilph5bHyXGlX9Eq38lp5r3xWzMq0sqxsK9+V38qx/gc79s5p57zj74idYOeyc91JduTObee+k++UO2qHncfOc6fd0TvdzmvnvfPZMTvTzrKz7Xx3fjvHzh91ok09xWadggAAAABJRU5ErkJggg=='
PNG8='iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAeklEQVR42g3JIQ4AMQgAQWSDQiCqSCWyQSHQfdc+/W7siAhLMGELR0jhCi2IKEsxZStHSeUqrX84yzFnO8dJ5zrtfwQrsGAHJ8jgBh1/JCuxZCcnyeQmnX8Uq7BiF6fI4hZdfwxrsGEPZ8jhDj1/PNbDHvtxHvm4j358KCcvwWCT6EsAAAAASUVORK5CYII='
r=$(post "[{\"taskType\":\"imageUpload\",\"taskUUID\":\"$(uuid)\",\"image\":\"data:image/png;base64,$PNG32\"}]")
check "imageUpload" "$r" '"taskType":"imageUpload".*"imageUUID":"[0-9a-f-]{36}"'
UP_UUID=$(field "$r" imageUUID)
T3=$(uuid)
REFS="\"$UP_UUID\",\"$IMG_URL\",\"$IMG_UUID\",\"data:image/png;base64,$PNG32\",\"$PNG32\",\"https://example.com/ref.jpg\""
r=$(post "[$(task "$T3" ",\"outputFormat\":\"PNG\",\"inputs\":{\"referenceImages\":[$REFS]}")]")
check "references accepted" "$(status "$r")" '^200$'
h=$(curl -s -o "$TMP/refs.png" -w '%{http_code}' "$(field "$r" imageURL)")
check "image with references renders" "$h" '^200$'
check "request log has the references" "$(curl -s "$B/requests?last=1")" "\"inputs\":\\{\"referenceImages\":\\[\"$UP_UUID\""
r=$(post "[$(task "$(uuid)" ",\"referenceImages\":[\"$PNG32\"]")]")
check "top-level referenceImages accepted" "$(status "$r")" '^200$'
r=$(post "[$(task "$(uuid)" ",\"inputs\":{\"referenceImages\":[\"$PNG32\",\"data:image/png;base64,$PNG8\"]}")]")
check "too small reference" "$r" '"parameter":"inputs.referenceImages\[1\]"'
r=$(post "[$(task "$(uuid)" ',"inputs":{"referenceImages":["data:image/png;base64,!!!!"]}')]")
check "undecodable reference" "$r" '"code":"invalidParameter","message":"[^"]*","parameter":"inputs.referenceImages\[0\]"'
r=$(post "[$(task "$(uuid)" ",\"inputs\":{\"referenceImages\":[\"$(uuid)\"]}")]")
check "unknown reference UUID" "$r" '"parameter":"inputs.referenceImages\[0\]"'
r=$(post "[$(task "$(uuid)" ",\"inputs\":{\"referenceImages\":[\"$PNG32\",\"$PNG32\"]},\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":14}}")]")
check "refs + sequential > 15" "$r" '"parameter":"providerSettings.bytedance.maxSequentialImages"'

# an emulator image as a data URI reference (a real refine chain input)
r=$(post "[$(task "$(uuid)" ',"outputType":"base64Data"')]")
task "$(uuid)" ',"inputs":{"referenceImages":["data:image/jpeg;base64,' | sed 's/}$//; s/^/[/' > "$TMP/big.json"
printf '%s' "$r" | grep -oE '"imageBase64Data":"[^"]*"' | sed -E 's/^"imageBase64Data":"(.*)"$/\1/' | tr -d '\n' >> "$TMP/big.json"
printf '"]}}]' >> "$TMP/big.json"
r=$(postf "$TMP/big.json")
check "big data URI reference" "$(status "$r")" '^200$'

# ---- ttl (--ttl-unit-ms 20: ttl 60 lasts 1.2 s) ----
r=$(post "[$(task "$(uuid)" ',"ttl":60')]")
TTL_URL=$(field "$r" imageURL)
check "ttl image before expiry" "$(curl -s -o /dev/null -w '%{http_code}' "$TTL_URL")" '^200$'
sleep 1.5
check "ttl image after expiry: 410" "$(curl -s -o /dev/null -w '%{http_code}' "$TTL_URL")" '^410$'

# ---- faults ----
curl -s -X POST "$B/faults" --data-binary '{"kind":"status","status":429,"retry_after":1}' > /dev/null
h=$(curl -s -D - -o /dev/null -X POST "$U" -H "Authorization: Bearer $KEY" --data-binary "[$(task "$(uuid)" '')]")
check "fault 429" "$h" 'HTTP/1.1 429'
check "fault 429 Retry-After" "$h" 'Retry-After: 1'
curl -s -X POST "$B/faults" --data-binary '{"kind":"status","status":503}' > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check "fault 503" "$(status "$r")" '^503$'
check "fault 503 code" "$r" '"code":"serverError"'
curl -s -X POST "$B/faults" --data-binary '{"kind":"drop"}' > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check "fault drop" "$(status "$r")" '^000$'
T4=$(uuid)
charged=$(stat tasks_charged)
curl -s -X POST "$B/faults" --data-binary '{"kind":"drop_after_processing"}' > /dev/null
r=$(post "[$(task "$T4" '')]")
check "fault drop_after_processing" "$(status "$r")" '^000$'
check "drop_after_processing charged" "$(stat tasks_charged)" "^$((charged + 1))\$"
r=$(post "[$(task "$T4" '')]")
check "retry after drop: conflict" "$r" '"code":"conflictTaskUUID"'
r=$(post "[{\"taskType\":\"getResponse\",\"taskUUID\":\"$T4\"}]")
check "retry after drop: poll works" "$r" '"status":"success"'
curl -s -X POST "$B/faults" --data-binary '{"kind":"malformed"}' > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check "fault malformed" "$r" '^<html>'
curl -s -X POST "$B/faults" --data-binary '{"kind":"truncate"}' > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check_not "fault truncate" "$r" '\}\]\}'
curl -s -X POST "$B/faults" --data-binary '{"kind":"empty"}' > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check "fault empty" "$r" '^200$'
curl -s -X POST "$B/faults" --data-binary '{"kind":"slow","ms":400}' > /dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' -X POST "$U" -H "Authorization: Bearer $KEY" --data-binary "[$(task "$(uuid)" '')]")
check "fault slow" "$t" '^(0\.3[5-9]|0\.[4-9]|[1-9])'
curl -s -X POST "$B/faults" --data-binary '{"kind":"short_series","images":2}' > /dev/null
r=$(post "[$(task "$(uuid)" ',"providerSettings":{"bytedance":{"maxSequentialImages":5}}')]")
check "fault short_series" "$(printf '%s' "$r" | grep -o '"imageUUID"' | wc -l | tr -d ' ')" '^2$'
curl -s -X POST "$B/faults" --data-binary '{"kind":"task_error","code":"contentModerated"}' > /dev/null
T5=$(uuid)
r=$(post "[$(task "$T5" ',"deliveryMethod":"async"')]")
check "task_error: async ack" "$r" '"status":"processing"'
r=$(post "[{\"taskType\":\"getResponse\",\"taskUUID\":\"$T5\"}]")
check "task_error: poll reports it" "$r" "\"taskUUID\":\"$T5\",\"status\":\"error\",\"error\":\\{\"code\":\"contentModerated\""
check "task_error: poll answer is 200" "$(status "$r")" '^200$'
check "short_series of 0 refused" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/faults" --data-binary '{"kind":"short_series","images":0}')" '^400$'
curl -s -X POST "$B/faults" --data-binary '{"kind":"status","status":500,"count":5}' > /dev/null
curl -s -X DELETE "$B/faults" > /dev/null
r=$(post "[$(task "$(uuid)" '')]")
check "DELETE /faults clears" "$(status "$r")" '^200$'
check "bad fault refused" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/faults" --data-binary '{"kind":"nope"}')" '^400$'

# ---- webhooks and uploadEndpoint (to the built-in /sink) ----
T6=$(uuid)
r=$(post "[$(task "$T6" ",\"numberResults\":2,\"webhookURL\":\"$B/sink/hook\",\"uploadEndpoint\":\"$B/sink/up\"")]")
T7=$(uuid)
r=$(post "[$(task "$T7" ",\"webhookURL\":\"$B/sink/status/500\"")]")
r=$(post "[$(task "$(uuid)" ',"webhookURL":"https://example.com/hook"')]")
i=0
while { [ "$(stat webhook_posts)" -lt 6 ] || [ "$(stat uploads)" -lt 2 ]; } && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i + 1))
done
sleep 0.3
s=$(curl -s "$B/sink")
check "webhook delivered" "$s" "\"method\":\"POST\",\"path\":\"/sink/hook\".*\"body\":\\{\"taskType\":\"imageInference\",\"taskUUID\":\"$T6\""
check "upload delivered" "$s" '"method":"PUT","path":"/sink/up","content_type":"image/jpeg","magic":"ffd8ff'
check_not "no Authorization on deliveries" "$s" '"auth":true'
check "webhook retries then fails" "$(stat webhook_failures)" '^4$'
check "webhook posts (2 ok + 4 failed)" "$(stat webhook_posts)" '^6$'
check "uploads" "$(stat uploads)" '^2$'
check "non-local delivery skipped" "$(stat deliveries_skipped_nonlocal)" '^1$'

# ---- stats, requests, reset ----
s=$(curl -s "$B/stats")
for k in requests tasks inference_tasks tasks_charged images cost polls poll_requests duplicates \
         auth_failures image_gets image_gets_with_auth webhook_posts webhook_failures uploads \
         faults_injected in_flight; do
  check "stats has $k" "$s" "\"$k\":"
done
check "auth_failures" "$(stat auth_failures)" '^2$'
check "requests log" "$(curl -s "$B/requests?last=2")" '^\[\{"body":.*"auth":true\}\]$'
curl -s -X POST "$B/reset" > /dev/null
check "reset" "$(stat requests)" '^0$'

# the request log keeps at most 64 MB (16 MB a body), also of senders without the key
if [ -z "$WRAP" ]; then
  head -c 20000000 /dev/zero | tr '\0' 'a' > "$TMP/big.json"
  rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
  for i in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null -X POST "$U" -H 'Authorization: Bearer wrong' --data-binary "@$TMP/big.json"
  done
  rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
  check "request log bounded: RSS grows under 50 MB with 10 x 20 MB bodies" \
    "$((rss1 - rss0))" '^-?[0-9]{1,4}$|^-?[1-4][0-9]{4}$'
  rm -f "$TMP/big.json"
fi

# ---- shutdown ----
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
check "clean exit on SIGTERM" "$rc" '^0$'
if [ "$rc" != 0 ]; then cat "$TMP/err" >&2; fi

echo "$((CHECKS - FAILS)) passed, $FAILS failed"   # the format spec/run_all.sh counts
[ "$FAILS" = 0 ]
