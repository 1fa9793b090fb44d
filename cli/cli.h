/* cli.h - what the jcstar command's files share. The CLI parses arguments
 * and prints; every decision is made in libjcstar. */
#ifndef JCSTAR_CLI_H
#define JCSTAR_CLI_H

#include <stdio.h>

#include "jcstar.h"

/* Exit statuses (jcstar(1)). */
#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2

extern const char *progname;
extern int quiet;

int cmd_ca(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_issue(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_payload(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_crl(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_schemes(int argc, char **argv);

/* A new context using the scheme profiles jcstar loaded at start
 * ($JCSTAR_SCHEMES, the schemes/ directory of the certificate profiles,
 * or the library's built-in set). */
jcs_ctx *cli_ctx_new(void);
/* A context for level texts in output (never NULL after start-up). */
const jcs_ctx *cli_display(void);
/* Where the scheme profiles were read from ("(built in)" if not files). */
const char *schemes_dir(void);
/* The recognition and policy files: opt if given, else NAME.conf of the
 * certificate profile directory, else the built-in copy. NULL on error
 * (reason on ctx). */
jcs_recognition *load_recognition(jcs_ctx *ctx, const char *opt);
jcs_policy *load_policy(jcs_ctx *ctx, const char *opt);
/* Prints the profiles ctx uses, rec and pol as one JSON object (jcstar
 * schemes --json; the web verifier's schemes.json). wctx takes errors. */
void json_schemes(FILE *f, const jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_policy *pol, jcs_ctx *wctx);
/* Prints a verify decision as a JSON object. */
void json_decision(FILE *f, const jcs_decision *d);
/* jcstar show --ca DIR --serial S */
int show_registered(const char *dir, const char *serial, const char *reg_id,
    int json);

/* The verifier base URL for url-form payloads: base if given, else the one
 * of CA directory cadir (*ca_out then holds the open CA, to be freed).
 * Prints the problem and returns NULL with *rc set on failure. */
const char *resolve_base_url(jcs_ctx *ctx, const char *base,
    const char *cadir, jcs_ca **ca_out, int *rc);

/* Prints "jcstar: <what>: <message>" to stderr and returns the exit status
 * for the context's error (1 verdict, 2 otherwise). */
int fail_ctx(const jcs_ctx *ctx, const char *what);
/* Prints "jcstar: <message>" to stderr and returns EXIT_USAGE. */
int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints usage text to stdout (help) and returns 0. */
int print_help(const char *text);
/* Prints the short usage to stderr and returns EXIT_USAGE. */
int usage_error(const char *text);

/* Reads the passphrase from file (first line) or from JCSTAR_PASSPHRASE if
 * file is NULL. Sets *out to a malloc'd string or NULL when none is given.
 * Returns 0, or an exit status. Free with free_secret(). */
int get_passphrase(const char *file, char **out);
void free_secret(char *s);

/* Returns the certificate profile directory: opt if set, else
 * $JCSTAR_PROFILES, else ../certs beside the executable if present, else
 * the installed one. */
const char *profile_dir(const char *opt);
/* Returns the label template directory, found like profile_dir
 * ($JCSTAR_TEMPLATES, templates/ of the tree, PREFIX/share/jcstar/templates). */
const char *template_dir(const char *opt);
/* Returns the web verifier page's source directory, found the same way
 * ($JCSTAR_WEB, web/ of the tree, PREFIX/share/jcstar/web). */
const char *web_dir(const char *opt);
/* Resolves --template NAME|PATH into out: a PATH (with a '/' or ending in
 * .tmpl) as given, a NAME in template_dir(). Returns 0, or prints the
 * available names and returns EXIT_USAGE for an unknown one. */
int template_path(const char *name, char *out, size_t size);

/* Parses a whole decimal number in [min, max]; returns 0 or -1. */
int parse_int(const char *s, int min, int max, int *out);
/* --jobs N: a number from 1 to jcs_jobs_max(). Returns 0 with *out set, or
 * prints why not and returns EXIT_USAGE. */
int parse_jobs(const char *s, int *out);

/* Long batches: between stop_signals_begin and stop_signals_end, SIGINT and
 * SIGTERM only set a flag (a second one kills at once), which
 * stop_requested (for jcs_batch_opts.stop) reports; stop_signal is the
 * signal number seen, or 0. */
void stop_signals_begin(void);
void stop_signals_end(void);
int stop_requested(void *arg);
int stop_signal(void);

/* JSON output helpers. */
void json_str(FILE *f, const char *s);
/* Prints ,"key": and s as json_str() does (key is a plain name). */
void json_member(FILE *f, const char *key, const char *s);
void json_label(FILE *f, const jcs_label *label);
/* Prints the label's fields as an indented text block. */
void text_label(FILE *f, const jcs_label *label);
/* "JC-STAR ★2" style summary of scheme and level into buf. */
const char *level_text(int scheme, int level, char *buf, size_t len);

#endif
