/* output.c - printing labels as text and JSON. */
#include <string.h>

#include "cli.h"

void
json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
json_member(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":", key);
	json_str(f, s);
}

const char *
level_text(int scheme, int level, char *buf, size_t len)
{
	return jcs_level_text(cli_display(), scheme, level, buf, len);
}

void
json_decision(FILE *f, const jcs_decision *d)
{
	static const char *const how[] = { "not-met", "direct", "accepted" };
	const jcs_profile *p;
	char ref[64];
	int min;

	if (d == NULL) {
		fputs("null", f);
		return;
	}
	/* a requirement not met is the first one as given: min_level 0
	 * there means the scheme's lowest level, named as such */
	min = d->req.min_level;
	if (min == 0 && (p = jcs_schemes_find(jcs_ctx_schemes(cli_display()),
	    d->req.scheme)) != NULL)
		min = p->min_level;
	snprintf(ref, sizeof(ref), "%s:%d", jcs_scheme_name(d->req.scheme),
	    min);
	fprintf(f, "{\"met\":%s,\"how\":\"%s\",\"requirement\":",
	    d->met ? "true" : "false", how[d->met]);
	json_str(f, ref);
	if (d->req.source != NULL) {
		char at[4200];

		snprintf(at, sizeof(at), "%s:%u", d->req.source, d->req.line);
		fputs(",\"policy\":", f);
		json_str(f, at);
	}
	if (d->line != NULL) {
		char at[4200];

		snprintf(at, sizeof(at), "%s:%u", d->line->file,
		    d->line->line);
		fputs(",\"recognition\":", f);
		json_str(f, at);
		fputs(",\"basis\":", f);
		json_str(f, d->line->basis);
	}
	fputs(",\"reason\":", f);
	json_str(f, d->reason);
	fputc('}', f);
}

void
json_label(FILE *f, const jcs_label *l)
{
	const jcs_label_fields *fl = jcs_label_get_fields(l);
	char t[32];
	size_t len = 0;

	jcs_label_der(l, &len);
	fprintf(f, "{\"version\":%d,\"serial\":", jcs_label_version(l));
	json_str(f, jcs_label_serial_hex(l));
	fputs(",\"issuer_key_id\":", f);
	json_str(f, jcs_label_issuer_hex(l));
	fputs(",\"signature_algorithm\":", f);
	json_str(f, jcs_label_sig_alg(l));
	fprintf(f, ",\"der_size\":%zu,\"scheme\":", len);
	json_str(f, jcs_scheme_name(fl->scheme));
	fprintf(f, ",\"level\":%d,\"reg_id\":", fl->level);
	json_str(f, fl->product.reg_id);
	fputs(",\"vendor\":", f);
	json_str(f, fl->product.vendor);
	fputs(",\"product\":", f);
	json_str(f, fl->product.product);
	fputs(",\"model\":", f);
	json_str(f, fl->product.model);
	fputs(",\"unit_serial\":", f);
	json_str(f, fl->product.unit_serial);
	fputs(",\"assessment\":", f);
	json_str(f, fl->lab != NULL ? "third-party" : "self-declared");
	fputs(",\"lab\":", f);
	json_str(f, fl->lab);
	fputs(",\"not_before\":", f);
	json_str(f, jcs_time_format(fl->not_before, t, sizeof(t)));
	fputs(",\"not_after\":", f);
	json_str(f, jcs_time_format(fl->not_after, t, sizeof(t)));
	fputs(",\"support_until\":", f);
	json_str(f, fl->support_until != 0 ?
	    jcs_date_format(fl->support_until, t, sizeof(t)) : NULL);
	fputs(",\"extensions\":[", f);
	for (size_t i = 0; i < jcs_label_extension_count(l); i++) {
		int crit;
		const char *oid = jcs_label_extension(l, i, &crit);

		fprintf(f, "%s{\"oid\":", i > 0 ? "," : "");
		json_str(f, oid);
		fprintf(f, ",\"critical\":%s}", crit ? "true" : "false");
	}
	fputs("]}", f);
}

void
text_label(FILE *f, const jcs_label *l)
{
	const jcs_label_fields *fl = jcs_label_get_fields(l);
	char a[32], b[32], lv[64];
	size_t len = 0, n;

	jcs_label_der(l, &len);
	fprintf(f, "  %-17s %d\n", "format version", jcs_label_version(l));
	fprintf(f, "  %-17s %zu bytes (DER)\n", "size", len);
	fprintf(f, "  %-17s %s\n", "serial", jcs_label_serial_hex(l));
	fprintf(f, "  %-17s %s\n", "issuer key id", jcs_label_issuer_hex(l));
	fprintf(f, "  %-17s %s\n", "signature", jcs_label_sig_alg(l));
	fprintf(f, "  %-17s %s\n", "label",
	    level_text(fl->scheme, fl->level, lv, sizeof(lv)));
	fprintf(f, "  %-17s %s\n", "registration id", fl->product.reg_id);
	fprintf(f, "  %-17s %s\n", "vendor", fl->product.vendor);
	fprintf(f, "  %-17s %s\n", "product", fl->product.product);
	fprintf(f, "  %-17s %s\n", "model", fl->product.model);
	if (fl->product.unit_serial != NULL)
		fprintf(f, "  %-17s %s\n", "unit serial",
		    fl->product.unit_serial);
	if (fl->lab != NULL)
		fprintf(f, "  %-17s third-party, lab: %s\n", "assessment",
		    fl->lab);
	else
		fprintf(f, "  %-17s self-declared\n", "assessment");
	fprintf(f, "  %-17s %s to %s\n", "valid",
	    jcs_time_format(fl->not_before, a, sizeof(a)),
	    jcs_time_format(fl->not_after, b, sizeof(b)));
	if (fl->support_until != 0)
		fprintf(f, "  %-17s %s\n", "support until",
		    jcs_date_format(fl->support_until, a, sizeof(a)));
	n = jcs_label_extension_count(l);
	for (size_t i = 0; i < n; i++) {
		int crit;
		const char *oid = jcs_label_extension(l, i, &crit);

		fprintf(f, "  %-17s %s%s\n", i == 0 ? "extensions" : "", oid,
		    crit ? " (critical)" : "");
	}
}
