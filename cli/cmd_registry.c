/* cmd_registry.c - the certification body's registry: jcstar register,
 * list, revoke, crl, audit. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"

static const char register_help[] =
"usage: jcstar register --ca DIR --reg-id ID --scheme NAME --level N\n"
"           --vendor TEXT --product TEXT --model TEXT [--lab NAME]\n"
"           [--support-until DATE] [-q]\n"
"           [--basis FILE|TEXT (--basis-trust BUNDLE | --basis-scheme S[:N])\n"
"            [--recognition FILE]]\n"
"\n"
"Record an assessed product in the CA's registry. Labels are then issued\n"
"from it with 'jcstar issue --ca DIR --reg-id ID [--unit-serial S]'.\n"
"The scheme's profile applies (jcstar schemes): its levels, the levels\n"
"that name a third-party lab (--lab; JC-STAR 3 and 4, CLS 3 and 4, every\n"
"Cyber Trust Mark, CRA classes above default) and whether the end of the\n"
"support period is required (--support-until; PSTI, Cyber Trust Mark).\n"
"\n"
"A simplified application rests on a foreign label or statement, which\n"
"a 'simplified' line of the recognition file must allow for this scheme\n"
"and level (e.g. JC-STAR 1 on a CLS level 1 label, or on a UK PSTI\n"
"statement of compliance). The basis is recorded with the registration.\n"
"\n"
"  --basis FILE|TEXT   the basis: a file if one has that name, else the\n"
"                      text itself\n"
"  --basis-trust BUNDLE  the basis is a jcstar label (DER, PEM or QR\n"
"                      payload text) of another body: it must verify\n"
"                      against that body's trust bundle, and be for the\n"
"                      same model\n"
"  --basis-scheme S[:N]  the basis is a statement (e.g. psti for a PSTI\n"
"                      statement of compliance) of scheme S at level N\n"
"                      (default: its lowest), recorded as given\n"
"  --recognition FILE  the recognition file (default: recognition.conf of\n"
"                      the installed profiles)\n";

static const char list_help[] =
"usage: jcstar list --ca DIR [--reg-id ID] [--status valid|revoked|expired]\n"
"           [--json]\n"
"\n"
"List the labels the CA issued, oldest first, from its registry: serial,\n"
"status, registration, unit serial, validity, signer key id.\n";

static const char revoke_help[] =
"usage: jcstar revoke --ca DIR (--serial S | --reg-id ID) --reason R [-q]\n"
"\n"
"Revoke one label, or withdraw a registration: every label issued from it\n"
"is revoked and no new one can be issued. Then publish a new CRL ('jcstar\n"
"crl') and trust bundle. Reasons: unspecified, key-compromise,\n"
"affiliation-changed, superseded, cessation-of-operation,\n"
"certificate-hold, privilege-withdrawn.\n";

static const char crl_help[] =
"usage: jcstar crl --ca DIR -o FILE|- [--next-update-days N]\n"
"           [--passphrase-file FILE] [-q]\n"
"\n"
"Write a CRL of every revoked label serial, signed by the current label\n"
"signer, with the next CRL number (strictly increasing) and a nextUpdate\n"
"N days ahead (default 7, 1-366). A copy is kept in the CA directory and\n"
"goes into every trust bundle exported from then on.\n";

static const char audit_help[] =
"usage: jcstar audit verify --ca DIR\n"
"\n"
"Check the hash chain of the CA's audit log (every init, register, issue,\n"
"revoke, crl and rotate appends an entry holding the hash of the one\n"
"before) and report the first broken entry. Exit 0 intact, 1 broken.\n";

static const struct option reg_opts[] = {
	{ "ca", required_argument, NULL, 'c' },
	{ "reg-id", required_argument, NULL, 'r' },
	{ "scheme", required_argument, NULL, 's' },
	{ "level", required_argument, NULL, 'l' },
	{ "vendor", required_argument, NULL, 'v' },
	{ "product", required_argument, NULL, 'P' },
	{ "model", required_argument, NULL, 'm' },
	{ "lab", required_argument, NULL, 'L' },
	{ "support-until", required_argument, NULL, 'S' },
	{ "serial", required_argument, NULL, 'n' },
	{ "status", required_argument, NULL, 't' },
	{ "reason", required_argument, NULL, 'R' },
	{ "next-update-days", required_argument, NULL, 'd' },
	{ "passphrase-file", required_argument, NULL, 'p' },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "basis", required_argument, NULL, 'B' },
	{ "basis-trust", required_argument, NULL, 'T' },
	{ "basis-scheme", required_argument, NULL, 'b' },
	{ "recognition", required_argument, NULL, 'G' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *dir, *serial, *out, *pfile, *status_name;
	const char *basis, *basis_trust, *basis_scheme, *rec_file;
	jcs_registration reg;
	int level_set, reason, days, json, status;
};

/* Parses the shared option table; options a command does not use are
 * refused by that command. Returns 0, or an exit status (-1 for help). */
static int
parse(int argc, char **argv, const char *help, struct args *a)
{
	jcs_ctx *ctx = cli_ctx_new();
	int c, rc = 0;

	memset(a, 0, sizeof(*a));
	a->reason = -1;
	a->days = 7;
	if (ctx == NULL)
		return fail_usage("out of memory");
	while (rc == 0 &&
	    (c = getopt_long(argc, argv, "o:qh", reg_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->dir = optarg;
			break;
		case 'r':
			a->reg.product.reg_id = optarg;
			break;
		case 's':
			if ((a->reg.scheme = jcs_scheme_from_name(optarg)) ==
			    0)
				rc = fail_usage("unknown --scheme '%s'",
				    optarg);
			break;
		case 'l':
			if (parse_int(optarg, 0, 255, &a->reg.level) == -1)
				rc = fail_usage("--level must be a number, "
				    "not '%s'", optarg);
			a->level_set = 1;
			break;
		case 'v':
			a->reg.product.vendor = optarg;
			break;
		case 'P':
			a->reg.product.product = optarg;
			break;
		case 'm':
			a->reg.product.model = optarg;
			break;
		case 'L':
			a->reg.lab = optarg;
			break;
		case 'S':
			if (strlen(optarg) != 10 || jcs_time_parse(ctx, optarg,
			    &a->reg.support_until) == -1)
				rc = fail_usage("--support-until: '%s' is not "
				    "a date (YYYY-MM-DD)", optarg);
			break;
		case 'n':
			a->serial = optarg;
			break;
		case 't':
			a->status_name = optarg;
			if (strcmp(optarg, "valid") == 0)
				a->status = JCS_STATUS_VALID;
			else if (strcmp(optarg, "revoked") == 0)
				a->status = JCS_STATUS_REVOKED;
			else if (strcmp(optarg, "expired") == 0)
				a->status = JCS_STATUS_EXPIRED;
			else
				rc = fail_usage("--status must be valid, "
				    "revoked or expired, not '%s'", optarg);
			break;
		case 'R':
			if ((a->reason = jcs_reason_from_name(optarg)) == -1)
				rc = fail_usage("unknown --reason '%s' (see "
				    "--help)", optarg);
			break;
		case 'd':
			if (parse_int(optarg, 1, 366, &a->days) == -1)
				rc = fail_usage("--next-update-days must be 1 "
				    "to 366, not '%s'", optarg);
			break;
		case 'p':
			a->pfile = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'B':
			a->basis = optarg;
			break;
		case 'T':
			a->basis_trust = optarg;
			break;
		case 'b':
			a->basis_scheme = optarg;
			break;
		case 'G':
			a->rec_file = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			print_help(help);
			rc = -1;
			break;
		default:
			rc = usage_error(help);
		}
	}
	jcs_ctx_free(ctx);
	if (rc == 0 && optind != argc)
		rc = fail_usage("unexpected argument '%s'", argv[optind]);
	if (rc == 0 && help != register_help && (a->basis != NULL ||
	    a->basis_trust != NULL || a->basis_scheme != NULL ||
	    a->rec_file != NULL))
		rc = fail_usage("--basis, --basis-trust, --basis-scheme and "
		    "--recognition go with register only");
	if (rc == 0 && a->dir == NULL)
		rc = fail_usage("--ca DIR is required");
	return rc;
}

/* Opens the CA of a; prints and returns NULL on failure. */
static jcs_ca *
open_ca(jcs_ctx *ctx, const struct args *a, int *rc)
{
	char *pass = NULL;
	jcs_ca *ca;

	if ((*rc = get_passphrase(a->pfile, &pass)) != 0)
		return NULL;
	if ((ca = jcs_ca_open(ctx, a->dir, pass)) == NULL)
		*rc = fail_ctx(ctx, a->dir);
	free_secret(pass);
	return ca;
}

static const char *
status_name(int status)
{
	return status == JCS_STATUS_REVOKED ? "revoked" :
	    status == JCS_STATUS_EXPIRED ? "expired" : "valid";
}

#define BASIS_MAX_FILE (64 * 1024)

/* --basis: a file's bytes if a regular file has that name, else the text.
 * Sets *buf (malloc'd) and *len. Returns 0 or an exit status. */
static int
basis_input(const char *arg, uint8_t **buf, size_t *len)
{
	struct stat st;
	FILE *f;

	if (stat(arg, &st) == 0 && !S_ISREG(st.st_mode))
		return fail_usage("--basis: %s is not a regular file", arg);
	if (stat(arg, &st) != 0) {
		/* the text itself */
		*len = strlen(arg);
		if ((*buf = malloc(*len + 1)) == NULL)
			return fail_usage("out of memory");
		memcpy(*buf, arg, *len + 1);
		return 0;
	}
	if (st.st_size > BASIS_MAX_FILE)
		return fail_usage("--basis: %s is %lld bytes (at most %d)", arg,
		    (long long)st.st_size, BASIS_MAX_FILE);
	if ((f = fopen(arg, "rb")) == NULL)
		return fail_usage("--basis: cannot open %s: %m", arg);
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return fail_usage("out of memory");
	}
	*len = fread(*buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || *len > (size_t)st.st_size) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		fail_usage("--basis: cannot read %s (or it changed)", arg);
		return EXIT_USAGE;
	}
	fclose(f);
	(*buf)[*len] = '\0';
	return 0;
}

/* Builds the basis of a simplified application from --basis and its
 * companions, and loads the recognition file. Returns 0 or an exit
 * status. */
static int
make_basis(jcs_ctx *ctx, const struct args *a, jcs_basis **basis,
    jcs_recognition **rec)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if ((a->basis_trust == NULL) == (a->basis_scheme == NULL))
		return fail_usage("register: --basis needs --basis-trust "
		    "BUNDLE (a label of another body) or --basis-scheme S "
		    "(a statement), one of them");
	if ((*rec = load_recognition(ctx, a->rec_file)) == NULL) {
		fail_ctx(ctx, "--recognition");
		return EXIT_USAGE;
	}
	if ((rc = basis_input(a->basis, &buf, &len)) != 0)
		return rc;
	if (a->basis_trust != NULL) {
		jcs_trust *t = jcs_trust_load_file(ctx, a->basis_trust);

		if (t == NULL) {
			free(buf);
			fail_ctx(ctx, "--basis-trust");
			return EXIT_USAGE;
		}
		*basis = jcs_basis_from_label(ctx, t, buf, len, 0);
		jcs_trust_free(t);
	} else {
		jcs_requirement r;

		if (jcs_requirement_parse(ctx, a->basis_scheme,
		    "--basis-scheme", NULL, "--basis-scheme", &r) == -1) {
			free(buf);
			fail_ctx(ctx, "register");
			return EXIT_USAGE;
		}
		if (r.min_level == 0)
			r.min_level = jcs_schemes_find(jcs_ctx_schemes(ctx),
			    r.scheme)->min_level;
		*basis = jcs_basis_from_statement(ctx, r.scheme, r.min_level,
		    (const char *)buf, len);
	}
	free(buf);
	if (*basis == NULL) {
		rc = fail_ctx(ctx, "--basis");
		/* a forged or revoked basis is refused like a bad input */
		return rc == EXIT_INVALID ? EXIT_INVALID : EXIT_USAGE;
	}
	return 0;
}

int
cmd_register(int argc, char **argv)
{
	struct args a;
	jcs_ctx *ctx;
	jcs_ca *ca = NULL;
	jcs_basis *basis = NULL;
	jcs_recognition *rec = NULL;
	int rc = parse(argc, argv, register_help, &a);

	if (rc != 0)
		return rc == -1 ? EXIT_VALID : rc;
	if (a.reg.product.reg_id == NULL || a.reg.scheme == 0 ||
	    !a.level_set || a.reg.product.vendor == NULL ||
	    a.reg.product.product == NULL || a.reg.product.model == NULL)
		return fail_usage("register: --reg-id, --scheme, --level, "
		    "--vendor, --product and --model are required");
	if (a.serial || a.status || a.reason != -1 || a.out || a.json)
		return fail_usage("register: --serial, --status, --reason, -o "
		    "and --json do not apply");
	if (a.basis == NULL && (a.basis_trust != NULL ||
	    a.basis_scheme != NULL || a.rec_file != NULL))
		return fail_usage("register: --basis-trust, --basis-scheme and "
		    "--recognition go with --basis");
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if (a.basis != NULL && (rc = make_basis(ctx, &a, &basis, &rec)) != 0)
		goto done;
	a.reg.basis = basis;
	a.reg.recognition = rec;
	if ((ca = open_ca(ctx, &a, &rc)) != NULL) {
		if (jcs_ca_register(ctx, ca, &a.reg) == -1)
			rc = fail_ctx(ctx, "register");
		else if (!quiet) {
			if (basis != NULL)
				fprintf(stderr, "simplified application on "
				    "%s\n", jcs_basis_summary(basis));
			fprintf(stderr, "registered %s; issue labels with "
			    "'jcstar issue --ca %s --reg-id %s'\n",
			    a.reg.product.reg_id, a.dir, a.reg.product.reg_id);
		}
	}
done:
	jcs_basis_free(basis);
	jcs_recognition_free(rec);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}

static int
print_record(void *arg, const jcs_record *r)
{
	int json = *(int *)arg;
	char a[32], b[32], c[32];

	if (json) {
		fputs("{\"serial\":", stdout);
		json_str(stdout, r->serial_hex);
		printf(",\"status\":\"%s\",\"reg_id\":", status_name(r->status));
		json_str(stdout, r->reg_id);
		fputs(",\"unit_serial\":", stdout);
		json_str(stdout, r->unit_serial);
		fputs(",\"signer_key_id\":", stdout);
		json_str(stdout, r->signer_id);
		printf(",\"not_before\":\"%s\",\"not_after\":\"%s\","
		    "\"issued_at\":\"%s\"",
		    jcs_time_format(r->not_before, a, sizeof(a)),
		    jcs_time_format(r->not_after, b, sizeof(b)),
		    jcs_time_format(r->issued_at, c, sizeof(c)));
		if (r->revoked_at != 0)
			printf(",\"revoked_at\":\"%s\",\"reason\":\"%s\"",
			    jcs_time_format(r->revoked_at, a, sizeof(a)),
			    jcs_reason_name(r->reason));
		printf(",\"der_size\":%zu}\n", r->der_len);
		return 0;
	}
	printf("%s  %-7s  %-20s %-14s %s..%s  %s", r->serial_hex,
	    status_name(r->status), r->reg_id,
	    r->unit_serial != NULL ? r->unit_serial : "-",
	    jcs_date_format(r->not_before, a, sizeof(a)),
	    jcs_date_format(r->not_after, b, sizeof(b)), r->signer_id);
	if (r->revoked_at != 0)
		printf("  revoked %s %s",
		    jcs_date_format(r->revoked_at, a, sizeof(a)),
		    jcs_reason_name(r->reason));
	putchar('\n');
	return 0;
}

int
cmd_list(int argc, char **argv)
{
	struct args a;
	jcs_ctx *ctx;
	jcs_ca *ca;
	long n;
	int rc = parse(argc, argv, list_help, &a);

	if (rc != 0)
		return rc == -1 ? EXIT_VALID : rc;
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if ((ca = open_ca(ctx, &a, &rc)) != NULL) {
		n = jcs_ca_list(ctx, ca, a.reg.product.reg_id, a.status, 0,
		    print_record, &a.json);
		if (n == -1)
			rc = fail_ctx(ctx, "list");
		else if (!quiet && !a.json)
			fprintf(stderr, "%ld label%s\n", n, n == 1 ? "" : "s");
	}
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}

/* jcstar show --ca DIR --serial S: the registry's record and the label. */
static int
show_record(void *arg, const jcs_record *r)
{
	jcs_ctx *ctx = arg;
	jcs_label *l;
	char a[32];

	print_record(&(int){ 0 }, r);
	if ((l = jcs_label_from_der(ctx, r->der, r->der_len)) == NULL)
		return fail_ctx(ctx, "recorded label");
	printf("  %-17s %s\n", "issued", jcs_time_format(r->issued_at, a,
	    sizeof(a)));
	text_label(stdout, l);
	jcs_label_free(l);
	return 0;
}

struct reg_show {
	const jcs_ctx *ctx;
	int json;
};

/* Prints a registration and the basis of a simplified application. */
static int
show_registration(void *arg, const jcs_registration_record *g)
{
	const struct reg_show *s = arg;
	char lv[96], blv[96], t[32];
#define ROW "  %-17s %s\n"

	jcs_level_text(s->ctx, g->scheme, g->level, lv, sizeof(lv));
	if (g->basis_kind != NULL)
		jcs_level_text(s->ctx, g->basis_scheme, g->basis_level, blv,
		    sizeof(blv));
	if (s->json) {
		fputs("{\"reg_id\":", stdout);
		json_str(stdout, g->reg_id);
		printf(",\"scheme\":\"%s\",\"level\":%d,\"level_text\":",
		    jcs_scheme_name(g->scheme), g->level);
		json_str(stdout, lv);
		json_member(stdout, "vendor", g->vendor);
		json_member(stdout, "product", g->product);
		json_member(stdout, "model", g->model);
		json_member(stdout, "lab", g->lab);
		json_member(stdout, "support_until", g->support_until != 0 ?
		    jcs_date_format(g->support_until, t, sizeof(t)) : NULL);
		printf(",\"registered_at\":\"%s\"", jcs_time_format(
		    g->created_at, t, sizeof(t)));
		if (g->withdrawn_at != 0)
			printf(",\"withdrawn_at\":\"%s\",\"reason\":\"%s\"",
			    jcs_time_format(g->withdrawn_at, t, sizeof(t)),
			    jcs_reason_name(g->withdrawn_reason));
		printf(",\"labels\":%ld,\"revoked\":%ld,\"basis\":",
		    g->labels, g->revoked);
		if (g->basis_kind == NULL) {
			fputs("null}\n", stdout);
			return 0;
		}
		printf("{\"kind\":\"%s\",\"scheme\":\"%s\",\"level\":%d,"
		    "\"level_text\":", g->basis_kind,
		    jcs_scheme_name(g->basis_scheme), g->basis_level);
		json_str(stdout, blv);
		json_member(stdout, "serial", g->basis_serial);
		json_member(stdout, "issuer_key_id", g->basis_issuer);
		json_member(stdout, "summary", g->basis_summary);
		json_member(stdout, "recognition", g->basis_recognition);
		printf(",\"recorded_at\":\"%s\",\"size\":%zu}}\n",
		    jcs_time_format(g->basis_recorded_at, t, sizeof(t)),
		    g->basis_content_len);
		return 0;
	}
	printf("registration %s: %s, %s\n", g->reg_id, lv,
	    g->withdrawn_at != 0 ? "withdrawn" : "active");
	printf(ROW, "vendor", g->vendor);
	printf(ROW, "product", g->product);
	printf(ROW, "model", g->model);
	printf(ROW, "assessment", g->lab != NULL ? g->lab : "self-declared");
	if (g->support_until != 0)
		printf(ROW, "support until", jcs_date_format(g->support_until,
		    t, sizeof(t)));
	printf(ROW, "registered", jcs_time_format(g->created_at, t,
	    sizeof(t)));
	if (g->withdrawn_at != 0)
		printf("  %-17s %s (%s)\n", "withdrawn", jcs_time_format(
		    g->withdrawn_at, t, sizeof(t)),
		    jcs_reason_name(g->withdrawn_reason));
	printf("  %-17s %ld issued, %ld revoked\n", "labels", g->labels,
	    g->revoked);
	if (g->basis_kind == NULL) {
		printf(ROW, "application", "full (no basis)");
		return 0;
	}
	printf("  %-17s simplified, on a %s %s\n", "application", blv,
	    strcmp(g->basis_kind, "label") == 0 ? "label" : "statement");
	if (g->basis_serial != NULL)
		printf("  %-17s serial %s, issuer key %s\n", "basis label",
		    g->basis_serial, g->basis_issuer != NULL ?
		    g->basis_issuer : "-");
	printf(ROW, "basis checked", g->basis_summary);
	printf(ROW, "allowed by", g->basis_recognition);
	printf(ROW, "basis recorded", jcs_time_format(g->basis_recorded_at,
	    t, sizeof(t)));
	if (strcmp(g->basis_kind, "statement") == 0) {
		/* the applicant's text: its lines indented, other control
		 * characters shown as '?' (never sent to the terminal) */
		printf("  %-17s ", "statement");
		for (size_t i = 0; i < g->basis_content_len; i++) {
			unsigned char ch = g->basis_content[i];

			if (ch == '\n' && i + 1 < g->basis_content_len)
				printf("\n  %-17s ", "");
			else if (ch == '\t' || ch >= 0x20) {
				if (ch != 0x7f)
					putchar(ch);
				else
					putchar('?');
			} else if (ch != '\n' && ch != '\r')
				putchar('?');
		}
		putchar('\n');
	}
	return 0;
#undef ROW
}

int
show_registered(const char *dir, const char *serial, const char *reg_id,
    int json)
{
	jcs_ctx *ctx = cli_ctx_new();
	struct reg_show s = { ctx, json };
	jcs_ca *ca;
	int rc = EXIT_VALID;

	if (ctx == NULL)
		return fail_usage("out of memory");
	if ((ca = jcs_ca_open(ctx, dir, NULL)) == NULL)
		rc = fail_ctx(ctx, dir);
	else if (reg_id != NULL) {
		if (jcs_ca_find_registration(ctx, ca, reg_id,
		    show_registration, &s) == -1)
			rc = fail_ctx(ctx, "show");
	} else if (jcs_ca_find(ctx, ca, serial, json ? print_record :
	    show_record, json ? (void *)&json : (void *)ctx) == -1)
		rc = fail_ctx(ctx, "show");
	if (rc == EXIT_INVALID && jcs_ctx_error(ctx) == JCS_ERR_NOT_FOUND)
		rc = EXIT_USAGE;
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}

int
cmd_revoke(int argc, char **argv)
{
	struct args a;
	jcs_ctx *ctx;
	jcs_ca *ca;
	long n;
	int rc = parse(argc, argv, revoke_help, &a);

	if (rc != 0)
		return rc == -1 ? EXIT_VALID : rc;
	if ((a.serial == NULL) == (a.reg.product.reg_id == NULL))
		return fail_usage("revoke: give --serial S or --reg-id ID (one "
		    "of them)");
	if (a.reason == -1)
		return fail_usage("revoke: --reason is required");
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if ((ca = open_ca(ctx, &a, &rc)) != NULL) {
		n = jcs_ca_revoke(ctx, ca, a.serial, a.reg.product.reg_id,
		    a.reason);
		if (n == -1)
			rc = fail_ctx(ctx, "revoke");
		else if (!quiet && a.serial != NULL)
			fprintf(stderr, n == 1 ? "revoked label %s (%s); "
			    "publish a new CRL: jcstar crl --ca %s -o FILE\n" :
			    "label %s was already revoked; its recorded date "
			    "and reason stay (not %s)\n",
			    a.serial, jcs_reason_name(a.reason), a.dir);
		else if (!quiet)
			fprintf(stderr, "withdrew registration %s: %ld label%s "
			    "revoked (%s); publish a new CRL: jcstar crl --ca "
			    "%s -o FILE\n", a.reg.product.reg_id, n,
			    n == 1 ? "" : "s", jcs_reason_name(a.reason),
			    a.dir);
	}
	if (rc == EXIT_INVALID)
		rc = EXIT_USAGE; /* a refused revocation is not a verdict */
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}

int
cmd_crl(int argc, char **argv)
{
	struct args a;
	jcs_ctx *ctx;
	jcs_ca *ca;
	int rc = parse(argc, argv, crl_help, &a);

	if (rc != 0)
		return rc == -1 ? EXIT_VALID : rc;
	if (a.out == NULL)
		return fail_usage("crl: -o FILE is required (- for stdout)");
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if ((ca = open_ca(ctx, &a, &rc)) != NULL) {
		if (jcs_ca_write_crl(ctx, ca, a.days, a.out) == -1)
			rc = fail_ctx(ctx, "crl");
		else if (!quiet && strcmp(a.out, "-") != 0)
			fprintf(stderr, "wrote %s; re-export the trust bundle "
			    "(jcstar trust export) to publish it\n", a.out);
	}
	if (rc == EXIT_INVALID)
		rc = EXIT_USAGE;
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}

int
cmd_audit(int argc, char **argv)
{
	struct args a;
	jcs_ctx *ctx;
	jcs_ca *ca;
	long n;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "verify") != 0 &&
	    strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)) {
		fprintf(stderr, "%s audit: say 'verify'\n", progname);
		return usage_error(audit_help);
	}
	if (strcmp(argv[1], "verify") != 0)
		return print_help(audit_help);
	if ((rc = parse(argc - 1, argv + 1, audit_help, &a)) != 0)
		return rc == -1 ? EXIT_VALID : rc;
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if ((ca = open_ca(ctx, &a, &rc)) != NULL) {
		if ((n = jcs_ca_audit_verify(ctx, ca)) == -1) {
			fprintf(stderr, "%s: audit: %s\n", progname,
			    jcs_ctx_message(ctx));
			rc = jcs_ctx_error(ctx) == JCS_ERR_AUDIT ?
			    EXIT_INVALID : EXIT_USAGE;
		} else if (!quiet) {
			printf("audit log intact: %ld entr%s\n", n,
			    n == 1 ? "y" : "ies");
		}
	}
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}
