/* minitest.h: a tiny test harness for the C unit tests of core/.
 *
 *   #include "minitest.h"
 *   int main(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(f(), 3); CHECK_STR(s, "x");
 *                    return MT_SUMMARY(); }
 *
 * Failures print file:line and the values; MT_SUMMARY prints the final line
 * "N passed, N failed" and returns the process exit status (non-zero on any failure). */
#ifndef MINITEST_H
#define MINITEST_H

#include <stdio.h>
#include <string.h>

static int mt_passed, mt_failed;

static int mt_report(int ok, const char *file, int line, const char *what) {
  if (ok) {
    mt_passed++;
  } else {
    mt_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
  }
  return ok;
}

#define CHECK(cond) mt_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_EQ_INT(a, b)                                                             \
  do {                                                                                 \
    long long mt_a_ = (long long)(a), mt_b_ = (long long)(b);                         \
    if (!mt_report(mt_a_ == mt_b_, __FILE__, __LINE__, #a " == " #b))                  \
      fprintf(stderr, "     got %lld, expected %lld\n", mt_a_, mt_b_);                \
  } while (0)

#define CHECK_STR(a, b)                                                                \
  do {                                                                                 \
    const char *mt_a_ = (a), *mt_b_ = (b);                                             \
    int mt_ok_ = mt_a_ && mt_b_ ? strcmp(mt_a_, mt_b_) == 0 : mt_a_ == mt_b_;          \
    if (!mt_report(mt_ok_, __FILE__, __LINE__, #a " == " #b))                          \
      fprintf(stderr, "     got \"%s\", expected \"%s\"\n", mt_a_ ? mt_a_ : "(null)",  \
              mt_b_ ? mt_b_ : "(null)");                                               \
  } while (0)

/* haystack contains needle */
#define CHECK_CONTAINS(hay, needle)                                                    \
  do {                                                                                 \
    const char *mt_h_ = (hay), *mt_n_ = (needle);                                      \
    int mt_ok_ = mt_h_ && mt_n_ && strstr(mt_h_, mt_n_) != NULL;                       \
    if (!mt_report(mt_ok_, __FILE__, __LINE__, #hay " contains " #needle))             \
      fprintf(stderr, "     \"%s\" does not contain \"%s\"\n", mt_h_ ? mt_h_ : "(null)", \
              mt_n_ ? mt_n_ : "(null)");                                               \
  } while (0)

#define MT_SUMMARY()                                                                   \
  (printf("%d passed, %d failed\n", mt_passed, mt_failed), fflush(stdout),             \
   mt_failed ? 1 : 0)

#endif
