-- The four example requests of the API reference (shared/spec/seedream-5.0-lite-api.txt),
-- as plain Lua tables: same task UUIDs, prompts, sizes and reference URLs. Note that the
-- reference puts referenceImages at the top level; seedream sends them under inputs.
return {
  {
    title = "Clockwork Orchard Wedding Portrait",
    request = {
      taskType = "imageInference",
      taskUUID = "f71dc58d-1961-4aa2-ae5c-4f35532f2baf",
      model = "bytedance:seedream@5.0-lite",
      positivePrompt = "An elaborate wedding portrait in a fantastical clockwork orchard, a poised couple standing beneath fruit trees whose branches are made of polished brass, copper leaves, and tiny rotating gears. The bride wears an ivory gown with pearl beadwork and structured sleeves, the groom wears a deep plum formal coat with embroidered celestial motifs. Around them hang mechanical pears, glass apples with visible filigree cores, and delicate ribbon streamers caught in a gentle breeze. In the background, guests sit at long pale-wood tables arranged between topiary arches and suspended strings of crystal droplets. The ground is patterned with fallen petals, metallic leaves, and mosaic tiles. Warm late-afternoon light, refined cinematic composition, elegant symmetry with subtle asymmetry in the foliage, high detail in fabrics, jewelry, reflective metal, and facial features, whimsical luxury, romantic but slightly surreal, premium editorial photography mixed with storybook grandeur.",
      width = 2304,
      height = 1728,
      providerSettings = {
        bytedance = {
          optimizePromptMode = "standard",
          maxSequentialImages = 1,
        },
      },
    },
  },
  {
    title = "Porcelain Aviary Confection Salon",
    request = {
      taskType = "imageInference",
      taskUUID = "d75461ad-bf14-4171-a4e8-39ba8436ecc0",
      model = "bytedance:seedream@5.0-lite",
      positivePrompt = "Using both reference images, create a fantastical confection salon where the cockatoo becomes the regal host of the space. Preserve the bird's distinctive crest, beak shape, and elegant stance from the first reference, and merge it naturally into the ornate pastry interior language of the second reference. Scene: a lavish dessert showroom filled with porcelain bird motifs, spiral meringue columns, suspended sugar ribbons, apricot and pale jade color harmonies, polished tiled floor, mirrored display cases, tiny marzipan sculptures, elaborate frosted cakes shaped like aviaries, and staff uniforms inspired by feather patterns. The cockatoo stands prominently atop a circular tasting podium as the focal subject, wearing a miniature embroidered collar and jeweled leg band. Highly detailed textures, graceful symmetry, premium editorial photography look, bright diffused indoor illumination, playful sophistication, sharp focus, rich depth, visually coherent blend of both references.",
      referenceImages = {
        "https://assets.runware.ai/assets/inputs/4cfc2f5b-dca4-46a3-a1c9-4f0f5c17927e.jpg",
        "https://assets.runware.ai/assets/inputs/fe19e584-5937-415e-8dbd-07ca8fa7c38a.jpg",
      },
      width = 2304,
      height = 1728,
      providerSettings = {
        bytedance = {
          optimizePromptMode = "standard",
          maxSequentialImages = 1,
        },
      },
    },
  },
  {
    title = "Grand Archive Atlas Collage",
    request = {
      taskType = "imageInference",
      taskUUID = "bc852f25-f77c-4406-acb4-d27be1b8a04d",
      model = "bytedance:seedream@5.0-lite",
      positivePrompt = "Use all 8 reference images to create a grand encyclopedic interior: a vast circular archive hall where the architecture from the library image forms the main setting, the antique map becomes a monumental central table display, the specimen cabinet contents appear in curated side exhibits, the brass navigation instruments become hero objects in the foreground, the suspended paper birds sweep upward through the composition like a visual guide line, the leather books form layered stacks and open study stations, the celestial mural transforms into the decorated domed ceiling, and the sunlight reference defines the warm directional lighting. Compose a highly detailed, elegant scholarly scene with clear depth, believable perspective, harmonious materials, intricate textures, and a sense of wonder and discovery. Refined editorial fantasy aesthetic, crisp focus, balanced complexity, no people, no text overlays.",
      referenceImages = {
        "https://assets.runware.ai/assets/inputs/ab24d614-b558-4b4c-9462-0a946f998598.jpg",
        "https://assets.runware.ai/assets/inputs/15de83e5-5ec3-4f81-b04d-2da68654d95c.jpg",
        "https://assets.runware.ai/assets/inputs/c5fbf3a5-f431-4b93-a688-227e011de6de.jpg",
        "https://assets.runware.ai/assets/inputs/7111e033-445c-411f-88b3-dc85a6bd1a53.jpg",
        "https://assets.runware.ai/assets/inputs/3e89698a-f15a-46fb-836c-de40feeb689a.jpg",
        "https://assets.runware.ai/assets/inputs/ef522faf-7468-4bfc-85ed-610968b11992.jpg",
        "https://assets.runware.ai/assets/inputs/7f7bc8e0-4cb9-4a9b-8111-3997cf676876.jpg",
        "https://assets.runware.ai/assets/inputs/b30f2e2b-ecfc-4c57-8f83-4384b6dca9d8.jpg",
      },
      width = 3456,
      height = 2592,
      providerSettings = {
        bytedance = {
          optimizePromptMode = "standard",
          maxSequentialImages = 1,
        },
      },
    },
  },
  {
    title = "Gilded Tram Through Floodplain",
    request = {
      taskType = "imageInference",
      taskUUID = "1c14dff5-4b52-4722-baa1-77705d1ee114",
      model = "bytedance:seedream@5.0-lite",
      positivePrompt = "An elegant old electric tram crossing a shallow seasonal floodplain on a narrow raised track, transformed into a surreal pastoral transit scene. The tram is painted cream, brass, and faded jade, with ornate trim, glowing interior sconces, and passengers visible through tall windows: a tailor with hatboxes, a child holding a paper pinwheel, a musician carrying a cello case, and a florist with oversized peonies. Around the track, mirror-like water reflects a vast apricot sky and drifting cloud bands. Tall reeds, floating lily pads, and scattered white ibises create delicate rhythm across the foreground. In the distance, stilted farmhouses, wind-driven water wheels, and rows of cypress trees suggest a wetland village adapted to annual overflow. Mood: tranquil, uncanny, refined, quietly joyful. Composition: wide cinematic angle, tram placed on the lower third moving left to right, strong leading lines, expansive sky, crisp reflections, balanced negative space. Style: ultra-detailed contemporary editorial photography blended with painterly atmosphere, nuanced natural light, realistic materials, subtle haze, intricate costume and vehicle detailing, high dynamic range, no text, no watermark.",
      width = 4096,
      height = 2304,
      providerSettings = {
        bytedance = {
          optimizePromptMode = "standard",
          maxSequentialImages = 1,
        },
      },
    },
  },
}
