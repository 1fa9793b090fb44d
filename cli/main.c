/* main.c - jcstar: command dispatch, help, shared argument helpers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"

const char *progname = "jcstar";
static const char *cmdname; /* the command being run, for messages */
int quiet;

static const char usage_text[] =
"usage: jcstar <command> [options]\n"
"\n"
"Certification body:\n"
"  ca init      create a CA directory (root + label-signing key)\n"
"  ca rotate    add a new label-signing key (or an HSM key: --key URI);\n"
"               old labels keep verifying\n"
"  ca revoke-signer  revoke an earlier signer (e.g. key compromise)\n"
"  trust export write the trust bundle (root and signer certificates)\n"
"  register     record an assessed product in the CA's registry\n"
"  issue        issue and sign a label (recorded before it is written)\n"
"  list         list the labels the CA issued\n"
"  revoke       revoke a label, or withdraw a registration\n"
"  crl          write the signed CRL of revoked labels\n"
"  audit verify check the hash chain of the CA's audit log\n"
"  render       print-ready label artwork (PNG, SVG) from a template\n"
"\n"
"Anyone:\n"
"  payload      print the text of a label's QR code (url or bare form)\n"
"  show         print a label's fields (does not verify); with --ca and\n"
"               --serial, the registry's record of an issued label\n"
"  verify       verify labels against a trust bundle; with --as or\n"
"               --importance, whether a label meets a requirement\n"
"  schemes      list the scheme profiles, recognition and policy\n"
"  scan         print the jcstar payloads of QR codes in images\n"
"  serve        HTTP verifier: verify API, health check, verifier page\n"
"  version      print the version\n"
"\n"
"Run 'jcstar <command> --help' for a command's options. Exit status:\n"
"0 ok/valid, 1 verification failed, 2 usage or I/O error.\n";

int
fail_ctx(const jcs_ctx *ctx, const char *what)
{
	jcs_err e = jcs_ctx_error(ctx);

	/* library messages about a file usually name it already; other
	 * prefixes (a command's name) are always printed */
	if (what != NULL && (strpbrk(what, "/.") == NULL ||
	    strstr(jcs_ctx_message(ctx), what) == NULL))
		fprintf(stderr, "%s: %s: %s\n", progname, what,
		    jcs_ctx_message(ctx));
	else
		fprintf(stderr, "%s: %s\n", progname, jcs_ctx_message(ctx));
	return jcs_err_is_verdict(e) ? EXIT_INVALID : EXIT_USAGE;
}

int
fail_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int
print_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_VALID;
}

int
usage_error(const char *text)
{
	const char *end = strstr(text, "\n\n");

	/* the short usage is the text up to the first blank line */
	if (end != NULL)
		fprintf(stderr, "%.*s\n", (int)(end - text), text);
	else
		fputs(text, stderr);
	if (cmdname != NULL)
		fprintf(stderr, "Try '%s %s --help' for more.\n", progname,
		    cmdname);
	else
		fprintf(stderr, "Try '%s --help' for more.\n", progname);
	return EXIT_USAGE;
}

int
parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int
parse_jobs(const char *s, int *out)
{
	if (parse_int(s, 1, jcs_jobs_max(), out) == -1)
		return fail_usage("--jobs must be a number from 1 to %d (4 per "
		    "processor), not '%s'", jcs_jobs_max(), s);
	return 0;
}

static volatile sig_atomic_t stop_sig;
static struct sigaction old_int, old_term;

static void
on_stop_signal(int sig)
{
	stop_sig = sig;
}

void
stop_signals_begin(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* the handler is used once: a second signal has its default effect
	 * (the registry is safe from a kill at any point) */
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	/* a signal ignored by whoever started us (nohup, a shell's
	 * background job) stays ignored */
	if (old_int.sa_handler == SIG_IGN)
		sigaction(SIGINT, &old_int, NULL);
	if (old_term.sa_handler == SIG_IGN)
		sigaction(SIGTERM, &old_term, NULL);
}

void
stop_signals_end(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

int
stop_requested(void *arg)
{
	(void)arg;
	return stop_sig != 0;
}

int
stop_signal(void)
{
	return stop_sig;
}

void
free_secret(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	__asm__ __volatile__("" : : "r"(s) : "memory");
	free(s);
}

int
get_passphrase(const char *file, char **out)
{
	const char *env;
	char buf[1025];
	size_t n;

	*out = NULL;
	if (file != NULL) {
		/* read(2) into our own buffer, wiped below: stdio would keep
		 * a copy in its heap buffer */
		int fd = strcmp(file, "-") == 0 ? STDIN_FILENO :
		    open(file, O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd == -1)
			return fail_usage("cannot open passphrase file %s: %s",
			    file, strerror(errno));
		n = 0;
		while (n < sizeof(buf) - 1 &&
		    (r = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1) {
				int e = errno;

				if (fd != STDIN_FILENO)
					close(fd);
				memset(buf, 0, sizeof(buf));
				return fail_usage("cannot read passphrase file "
				    "%s: %s", file, strerror(e));
			}
			n += (size_t)r;
		}
		if (fd != STDIN_FILENO)
			close(fd);
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (n == sizeof(buf) - 1 && strlen(buf) == n) {
			memset(buf, 0, sizeof(buf));
			return fail_usage("passphrase file %s: the passphrase "
			    "is longer than 1024 bytes", file);
		}
		if (buf[0] == '\0')
			return fail_usage("passphrase file %s is empty", file);
		*out = strdup(buf);
		memset(buf, 0, sizeof(buf));
		if (*out == NULL)
			return fail_usage("out of memory");
	} else if ((env = getenv("JCSTAR_PASSPHRASE")) != NULL &&
	    env[0] != '\0') {
		if ((*out = strdup(env)) == NULL)
			return fail_usage("out of memory");
	}
	return 0;
}

/* Finds one of jcstar's data directories (sub = "certs", "templates"):
 * opt if given, else $env, else beside the executable (build tree:
 * build/jcstar -> ../SUB, build/asan/jcstar -> ../../SUB; installed:
 * PREFIX/bin/jcstar -> PREFIX/share/jcstar/SUB), else the compiled-in
 * DATADIR/SUB. The result is in buf. */
static const char *
data_dir(const char *opt, const char *env, const char *sub, char *buf,
    size_t size)
{
	static const char *rel[] = { "..", "../..", "../share/jcstar" };
	const char *e = getenv(env);
	char exe[PATH_MAX];
	ssize_t n;

	if (opt != NULL)
		return opt;
	if (e != NULL && e[0] != '\0')
		return e;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]);
			    i++) {
				struct stat st;

				snprintf(buf, size, "%s/%s/%s", exe, rel[i],
				    sub);
				if (stat(buf, &st) == 0 &&
				    S_ISDIR(st.st_mode)) {
					char real[PATH_MAX];

					/* build/../certs -> certs */
					if (realpath(buf, real) != NULL)
						snprintf(buf, size, "%s",
						    real);
					return buf;
				}
			}
		}
	}
	snprintf(buf, size, "%s/%s", JCS_DATADIR, sub);
	return buf;
}

const char *
profile_dir(const char *opt)
{
	static char buf[PATH_MAX + 64];

	return data_dir(opt, "JCSTAR_PROFILES", "certs", buf, sizeof(buf));
}

const char *
web_dir(const char *opt)
{
	static char buf[PATH_MAX + 64];

	return data_dir(opt, "JCSTAR_WEB", "web", buf, sizeof(buf));
}

const char *
template_dir(const char *opt)
{
	static char buf[PATH_MAX + 64];

	return data_dir(opt, "JCSTAR_TEMPLATES", "templates", buf,
	    sizeof(buf));
}

/* ---- scheme profiles, recognition and policy files ---- */

static jcs_schemes *schemes;   /* NULL: the library's built-in set */
static jcs_ctx *display;       /* for level texts in output */

static void
free_schemes(void)
{
	jcs_ctx_free(display);
	jcs_schemes_free(schemes);
}

/* Loads the scheme profiles: $JCSTAR_SCHEMES if set, else the schemes/
 * directory of the certificate profiles if there is one, else the set
 * built into the library. Returns 0 or an exit status. */
static int
load_schemes(void)
{
	const char *env = getenv("JCSTAR_SCHEMES");
	char dir[PATH_MAX + 80];
	struct stat st;
	jcs_ctx *ctx;

	if ((ctx = jcs_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if (env != NULL && env[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/schemes", profile_dir(NULL));
	if ((env != NULL && env[0] != '\0') ||
	    (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) {
		if ((schemes = jcs_schemes_load_dir(ctx, dir)) == NULL) {
			int rc = fail_ctx(ctx, NULL);

			jcs_ctx_free(ctx);
			return rc == EXIT_INVALID ? EXIT_USAGE : rc;
		}
	}
	jcs_ctx_set_schemes(ctx, schemes);
	display = ctx;
	atexit(free_schemes);
	return 0;
}

jcs_ctx *
cli_ctx_new(void)
{
	jcs_ctx *ctx = jcs_ctx_new();

	if (ctx != NULL)
		jcs_ctx_set_schemes(ctx, schemes);
	return ctx;
}

const jcs_ctx *
cli_display(void)
{
	return display;
}

const char *
schemes_dir(void)
{
	static char buf[PATH_MAX + 80];
	const char *env = getenv("JCSTAR_SCHEMES");

	if (schemes == NULL)
		return "(built in)";
	if (env != NULL && env[0] != '\0')
		return env;
	snprintf(buf, sizeof(buf), "%s/schemes", profile_dir(NULL));
	return buf;
}

/* A data file of the certificate profile directory (NAME.conf), or NULL
 * when there is none (then the built-in copy serves). */
static const char *
conf_file(const char *name, char *buf, size_t size)
{
	struct stat st;

	snprintf(buf, size, "%s/%s", profile_dir(NULL), name);
	return stat(buf, &st) == 0 ? buf : NULL;
}

jcs_recognition *
load_recognition(jcs_ctx *ctx, const char *opt)
{
	char buf[PATH_MAX + 80];
	const char *path = opt != NULL ? opt :
	    conf_file("recognition.conf", buf, sizeof(buf));

	return path != NULL ? jcs_recognition_load_file(ctx, path) :
	    jcs_recognition_load_builtin(ctx);
}

jcs_policy *
load_policy(jcs_ctx *ctx, const char *opt)
{
	char buf[PATH_MAX + 80];
	const char *path = opt != NULL ? opt :
	    conf_file("policy.conf", buf, sizeof(buf));

	return path != NULL ? jcs_policy_load_file(ctx, path) :
	    jcs_policy_load_builtin(ctx);
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int rc;

	if (argc < 2)
		return usage_error(usage_text);
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0)
		return print_help(usage_text);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("jcstar %s (libjcstar %s)\n", JCS_VERSION_STRING,
		    jcs_version());
		return EXIT_VALID;
	}
	argc--;
	argv++;
	cmdname = cmd;
	if ((rc = load_schemes()) != 0)
		return rc;
	/* getopt names argv[0] in its messages: make it "jcstar <cmd>" */
	{
		static char name[64];

		snprintf(name, sizeof(name), "%s %s", progname, cmd);
		argv[0] = name;
	}
	if (strcmp(cmd, "ca") == 0)
		return cmd_ca(argc, argv);
	if (strcmp(cmd, "trust") == 0)
		return cmd_trust(argc, argv);
	if (strcmp(cmd, "issue") == 0)
		return cmd_issue(argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(cmd, "payload") == 0)
		return cmd_payload(argc, argv);
	if (strcmp(cmd, "scan") == 0)
		return cmd_scan(argc, argv);
	if (strcmp(cmd, "render") == 0)
		return cmd_render(argc, argv);
	if (strcmp(cmd, "register") == 0)
		return cmd_register(argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc, argv);
	if (strcmp(cmd, "revoke") == 0)
		return cmd_revoke(argc, argv);
	if (strcmp(cmd, "crl") == 0)
		return cmd_crl(argc, argv);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc, argv);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "schemes") == 0)
		return cmd_schemes(argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", progname, cmd);
	cmdname = NULL;
	return usage_error(usage_text);
}
