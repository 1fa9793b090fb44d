/* cmd_show.c - jcstar show: print a label's fields, without verifying. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char help[] =
"usage: jcstar show [--json] LABEL...\n"
"       jcstar show --ca DIR --serial S [--json]\n"
"       jcstar show --ca DIR --reg-id ID [--json]\n"
"\n"
"Print the fields of each label file (DER or PEM; - reads stdin). This\n"
"only decodes the label (strict DER): it does NOT verify the signature or\n"
"the issuer. Use 'jcstar verify' for that.\n"
"\n"
"  --json      one JSON object per label, one per line\n"
"  -h, --help  this help\n"
"\n"
"With --ca and --serial, show the registry's record of a label the CA\n"
"issued (status, revocation) and the label itself. With --ca and\n"
"--reg-id, show a registration: the product, its status, how many labels\n"
"were issued and revoked, and for a simplified application its basis (the\n"
"label or statement it rests on and the recognition line that allowed\n"
"it).\n"
"\n"
"Exit status: 0 all decoded, 1 a label is malformed, 2 usage or I/O error.\n";

int
cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "ca", required_argument, NULL, 'c' },
		{ "serial", required_argument, NULL, 's' },
		{ "reg-id", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	jcs_ctx *ctx;
	const char *cadir = NULL, *serial = NULL, *reg_id = NULL;
	int c, json = 0, rc = EXIT_VALID;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'c':
			cadir = optarg;
			break;
		case 's':
			serial = optarg;
			break;
		case 'r':
			reg_id = optarg;
			break;
		case 'h':
			return print_help(help);
		default:
			return usage_error(help);
		}
	}
	if (cadir != NULL || serial != NULL || reg_id != NULL) {
		if (cadir == NULL || (serial == NULL) == (reg_id == NULL) ||
		    optind != argc)
			return fail_usage("show: --ca DIR goes with --serial S "
			    "or --reg-id ID (one of them), without label "
			    "files");
		return show_registered(cadir, serial, reg_id, json);
	}
	if (optind >= argc) {
		fprintf(stderr, "%s show: no label file given\n", progname);
		return usage_error(help);
	}
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	for (int i = optind; i < argc; i++) {
		jcs_label *l = jcs_label_load_file(ctx, argv[i]);

		if (l == NULL) {
			int r = fail_ctx(ctx, argv[i]);

			if (r > rc)
				rc = r;
			continue;
		}
		if (json) {
			json_label(stdout, l);
			fputc('\n', stdout);
		} else {
			printf("%s: jcstar label (not verified; use 'jcstar "
			    "verify')\n", argv[i]);
			text_label(stdout, l);
		}
		jcs_label_free(l);
	}
	jcs_ctx_free(ctx);
	return rc;
}
