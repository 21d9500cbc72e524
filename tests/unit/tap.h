/*
 * Minimal TAP helpers for the core unit tests (no dependencies).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_TAP_H
#define IOASID_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do {                                          \
        int ok_ = !!(cond);                                             \
        tap_n++;                                                        \
        if (!ok_) {                                                     \
            tap_failed++;                                               \
        }                                                               \
        printf("%s %d - ", ok_ ? "ok" : "not ok", tap_n);               \
        printf(__VA_ARGS__);                                            \
        printf("\n");                                                   \
        if (!ok_) {                                                     \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                               \
    } while (0)

/* Equality of two unsigned 64-bit values, printing both on failure. */
#define TAP_EQ(a, b, ...) do {                                          \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                \
        TAP_OK(a_ == b_, __VA_ARGS__);                                  \
        if (a_ != b_) {                                                 \
            printf("#   got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", a_, b_); \
        }                                                               \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
