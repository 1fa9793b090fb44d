/* testutil.h - helpers shared by the cmocka tests. */
#ifndef JCSTAR_TESTUTIL_H
#define JCSTAR_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <time.h>
#include <cmocka.h>

#include "internal.h"

/* Absolute path of a file in the source tree ($JCSTAR_TOP, else "."),
 * in a static buffer (valid until the next call). */
const char *tu_src(const char *rel);
/* Reads a whole file; fails the test if it cannot. Free with free(). */
uint8_t *tu_read(const char *path, size_t *len);
void tu_write(const char *path, const void *data, size_t len);
/* A new empty temporary directory (malloc'd path); tu_rmrf removes it. */
char *tu_tmpdir(void);
void tu_rmrf(const char *path);
/* Group setup shared by the CA tests: a temporary directory in *tmp and, in
 * prof, a "profiles" directory in it holding test certificate profiles
 * (tu_profiles, 5-year signers). Returns 0, or 1 on failure (cmocka). */
int tu_setup_tmp(char **tmp, char *prof, size_t len);
/* Removes *tmp and frees it. */
void tu_teardown_tmp(char **tmp);
/* Parses a time; fails the test on error. */
time_t tu_time(const char *text);
/* Writes root.profile and signer.profile into dir; signer_ext replaces the
 * signer's extendedKeyUsage line (NULL = the label-signing EKU, "" = none);
 * signer_days sets its validity. */
void tu_profiles(const char *dir, const char *signer_eku, long signer_days);
/* Asserts that ctx holds err, printing the message when it does not. */
#define assert_err(ctx, want) \
	tu_assert_err((ctx), (want), __FILE__, __LINE__)
void tu_assert_err(const jcs_ctx *ctx, jcs_err want, const char *file,
    int line);
/* Asserts that ctx's message contains needle. */
#define assert_msg(ctx, needle) \
	tu_assert_msg((ctx), (needle), __FILE__, __LINE__)
void tu_assert_msg(const jcs_ctx *ctx, const char *needle, const char *file,
    int line);
/* The reference label's fields (docs/FORMAT.md). */
jcs_label_fields tu_ref_fields(void);
/* The reference label's fields as a label of scheme at level, naming a test
 * lab when the built-in profile wants one at that level (third_party_from). */
jcs_label_fields tu_scheme_fields(int scheme, int level);
/* The scheme a template file renders: its [label] scheme key, read as
 * docs/TEMPLATES.md says; 0 if it has none. Fails the test on a bad name. */
int tu_template_scheme(const char *path);

#endif
