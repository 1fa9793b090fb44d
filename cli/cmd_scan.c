/* cmd_scan.c - jcstar scan: print the jcstar payloads of QR codes in
 * images. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char help[] =
"usage: jcstar scan [--json] [-q] IMAGE...\n"
"\n"
"Find the QR codes in each image (PNG or JPEG; - reads stdin) and print\n"
"every jcstar payload in them, one per line, ready for 'jcstar verify\n"
"--payload'. A code that holds anything else is named on stderr. This\n"
"only reads the codes: it does NOT verify the labels.\n"
"\n"
"  --json      one JSON object per image, one per line:\n"
"              {\"file\":...,\"payloads\":[...],\"error\":null or \"...\"}\n"
"  -q, --quiet print nothing; the exit status tells\n"
"  -h, --help  this help\n"
"\n"
"Exit status: 0 every image holds a jcstar payload, 1 an image holds no QR\n"
"code or no jcstar payload, 2 usage or I/O error, or a file that is not a\n"
"readable PNG or JPEG image.\n";

/* Prints a code's text for a message: printable ASCII, the rest as \xNN,
 * at most 60 characters of it. */
static void
print_excerpt(FILE *f, const char *s, size_t len)
{
	size_t n = len > 60 ? 60 : len;

	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
	fputc('"', f);
	if (n < len)
		fprintf(f, "... (%zu bytes)", len);
}

/* Scans one image. Prints its payloads (or its JSON line) and notes;
 * returns the exit status for the image. */
static int
scan_one(jcs_ctx *ctx, const char *file, int json)
{
	jcs_scan *scan;
	size_t n, good = 0;
	char why[600];
	int rc;

	if ((scan = jcs_scan_file(ctx, file)) == NULL) {
		/* unreadable or not an image: 2, even for a damaged one */
		if (json) {
			fputs("{\"file\":", stdout);
			json_str(stdout, file);
			fputs(",\"payloads\":[],\"error\":", stdout);
			json_str(stdout, jcs_ctx_message(ctx));
			fputs("}\n", stdout);
		}
		fail_ctx(ctx, file);
		return EXIT_USAGE;
	}
	n = jcs_scan_count(scan);
	snprintf(why, sizeof(why), "%s", n == 0 ? jcs_ctx_message(ctx) : "");
	if (n == 0 && !quiet)
		fprintf(stderr, "%s: %s\n", progname, why);
	if (json) {
		fputs("{\"file\":", stdout);
		json_str(stdout, file);
		fputs(",\"payloads\":[", stdout);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *text = jcs_scan_text(scan, i, &len);
		uint8_t *der = NULL;
		size_t derlen;
		const char *msg, *kind;

		if (jcs_payload_decode(ctx, text, len, &der, &derlen,
		    NULL) == 0) {
			jcs_free(der);
			if (json) {
				fputs(good > 0 ? "," : "", stdout);
				json_str(stdout, text);
			} else if (!quiet) {
				printf("%s\n", text);
			}
			good++;
			continue;
		}
		/* not ours, or ours but damaged: say which, and why */
		msg = jcs_ctx_message(ctx);
		kind = "is not a jcstar payload";
		if (jcs_ctx_error(ctx) == JCS_ERR_BAD_PAYLOAD)
			kind = "is a damaged jcstar payload";
		else if (strncmp(msg, "not a jcstar payload: ", 22) == 0)
			msg += 22;
		if (good == 0 && why[0] == '\0')
			snprintf(why, sizeof(why), "code %zu %s: %s", i + 1,
			    kind, msg);
		if (!quiet) {
			fprintf(stderr, "%s: %s: code %zu %s: ", progname,
			    file, i + 1, kind);
			print_excerpt(stderr, text, len);
			fprintf(stderr, ": %s\n", msg);
		}
	}
	rc = good > 0 ? EXIT_VALID : EXIT_INVALID;
	if (json) {
		fputs("],\"error\":", stdout);
		json_str(stdout, good > 0 ? NULL : why);
		fputs("}\n", stdout);
	}
	jcs_scan_free(scan);
	return rc;
}

int
cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	jcs_ctx *ctx;
	int c, json = 0, rc = EXIT_VALID;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return print_help(help);
		default:
			return usage_error(help);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s scan: no image file given\n", progname);
		return usage_error(help);
	}
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	for (int i = optind; i < argc; i++) {
		int r = scan_one(ctx, argv[i], json);

		if (r > rc)
			rc = r;
	}
	jcs_ctx_free(ctx);
	return rc;
}
