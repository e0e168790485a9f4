/*
 * A minimal test harness for C: CHECK macros that count and report failures, TEST entries
 * run by run_tests(), and a closing line "api_test: N passed, N failed".
 */
#ifndef WSM_TEST_HARNESS_H
#define WSM_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                  \
        if (check_a_ != check_b_) {                                                      \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, \
                    __LINE__, #a, check_a_, #b, check_b_);                               \
        }                                                                                \
    } while (0)

/* The bytes (data, len) equal the NUL-terminated string s. */
#define CHECK_BYTES(data, len, s)                                                        \
    do {                                                                                 \
        size_t check_n_ = strlen(s);                                                     \
        if ((len) != check_n_ || memcmp((data), (s), check_n_) != 0) {                   \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK_BYTES failed: \"%.*s\" != \"%s\"\n", __FILE__, \
                    __LINE__, (int)(len), (const char *)(data), (s));                    \
        }                                                                                \
    } while (0)

struct test {
    const char *name;
    void (*run)(void);
};

/* Runs every test and prints the closing line; returns the process exit status. */
static int run_tests(const struct test *tests, size_t count) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        int before = check_failures;
        tests[i].run();
        if (check_failures == before) {
            passed++;
            printf("ok %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAILED %s\n", tests[i].name);
        }
    }
    printf("api_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
