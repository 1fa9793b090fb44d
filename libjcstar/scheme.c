/* scheme.c - the schemes a label can name, their levels and policies. */
#include <stdio.h>
#include <strings.h>

#include "internal.h"

static const struct scheme {
	int id;
	const char *name;     /* token used on the command line and in JSON */
	const char *display;  /* as printed on a label */
	int min_level, max_level;
	int max_years;        /* label validity cap; 0 = set by later rules */
	int issuable;
} schemes[] = {
	/* JC-STAR (IPA): stars 1-4; a label is valid for at most 2 years. */
	{ JCS_SCHEME_JCSTAR, "jcstar", "JC-STAR", 1, 4, 2, 1 },
	/* Singapore CLS (CSA): levels 1-4; up to 3 years. */
	{ JCS_SCHEME_CLS, "cls", "CLS", 1, 4, 3, 0 },
	/* UK PSTI: one level, "compliant". */
	{ JCS_SCHEME_PSTI, "psti", "PSTI", 1, 1, 0, 0 },
	/* US Cyber Trust Mark: one mark. */
	{ JCS_SCHEME_CYBER_TRUST_MARK, "cyber-trust-mark", "Cyber Trust Mark",
	  1, 1, 0, 0 },
	/* EU CRA: 1 default, 2 important I, 3 important II, 4 critical. */
	{ JCS_SCHEME_CRA, "cra", "CRA", 1, 4, 0, 0 },
};

static const struct scheme *
find(int id)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].id == id)
			return &schemes[i];
	return NULL;
}

const char *
jcs_scheme_name(int scheme)
{
	const struct scheme *s = find(scheme);

	return s != NULL ? s->name : NULL;
}

const char *
jcs_scheme_display(int scheme)
{
	const struct scheme *s = find(scheme);

	return s != NULL ? s->display : "unknown scheme";
}

int
jcs_scheme_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcasecmp(schemes[i].name, name) == 0)
			return schemes[i].id;
	return 0;
}

int
jcs_scheme_level_ok(int scheme, int level)
{
	const struct scheme *s = find(scheme);

	return s != NULL && level >= s->min_level && level <= s->max_level;
}

int
jcs_scheme_issuable(int scheme)
{
	const struct scheme *s = find(scheme);

	return s != NULL && s->issuable;
}

int
jcs_scheme_max_years(int scheme)
{
	const struct scheme *s = find(scheme);

	return s != NULL ? s->max_years : 0;
}

int
jcs_importance_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcasecmp(name, "low") == 0)
		return JCS_IMPORTANCE_LOW;
	if (strcasecmp(name, "medium") == 0)
		return JCS_IMPORTANCE_MEDIUM;
	if (strcasecmp(name, "high") == 0)
		return JCS_IMPORTANCE_HIGH;
	return 0;
}

int
jcs_importance_min_level(int scheme, int importance)
{
	/* Japanese government procurement guideline for JC-STAR: systems of
	 * low importance buy star 1 or higher, medium and high star 3 or
	 * higher. No rule is defined here for other schemes. */
	if (scheme != JCS_SCHEME_JCSTAR)
		return -1;
	switch (importance) {
	case JCS_IMPORTANCE_LOW:
		return 1;
	case JCS_IMPORTANCE_MEDIUM:
	case JCS_IMPORTANCE_HIGH:
		return 3;
	default:
		return -1;
	}
}

const char *
jcs_level_display(int scheme, int level, char *buf, size_t len)
{
	if (scheme == JCS_SCHEME_JCSTAR)
		snprintf(buf, len, "JC-STAR \u2605%d", level);
	else
		snprintf(buf, len, "%s level %d", jcs_scheme_display(scheme),
		    level);
	return buf;
}
