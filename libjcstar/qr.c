/*
 * qr.c - payload text -> QR matrix, with libqrencode and explicit segments
 * (so that the digits of the url form really go in numeric mode).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qrencode.h>

#include "internal.h"

struct jcs_qr {
	int version;
	int width;
	uint8_t *dark; /* width * width, 1 = dark */
};

int
jcs_qr_ec_from_name(const char *name)
{
	static const char *names[] = { "L", "M", "Q", "H" };

	for (int i = 0; name != NULL && i < 4; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i + 1;
	return 0;
}

static int
is_an(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr(" $%*+-./:", c) != NULL);
}

jcs_qr *
jcs_qr_encode(jcs_ctx *ctx, const char *payload, int ec)
{
	static const QRecLevel levels[] = { QR_ECLEVEL_M, QR_ECLEVEL_L,
		QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H };
	QRinput *in = NULL;
	QRcode *code = NULL;
	jcs_qr *qr = NULL;
	size_t len, split;

	if (payload == NULL || (len = strlen(payload)) == 0) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no payload to encode");
		return NULL;
	}
	if (ec < 0 || ec > 4) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "unknown error-correction level %d", ec);
		return NULL;
	}
	if (len > 7089) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "a payload of %zu characters fits no QR code", len);
		return NULL;
	}
	/* the trailing run of digits goes in numeric mode (url form) */
	split = len;
	if (strncmp(payload, JCS_BARE_PREFIX, strlen(JCS_BARE_PREFIX)) != 0)
		while (split > 0 && payload[split - 1] >= '0' &&
		    payload[split - 1] <= '9')
			split--;
	for (size_t i = 0; i < split; i++)
		if (!is_an((unsigned char)payload[i])) {
			jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "payload character 0x%02x at position %zu is not "
			    "in the QR alphanumeric set",
			    (unsigned char)payload[i], i);
			return NULL;
		}
	if ((in = QRinput_new2(0, levels[ec])) == NULL ||
	    (split > 0 && QRinput_append(in, QR_MODE_AN, (int)split,
	    (const unsigned char *)payload) != 0) ||
	    (split < len && QRinput_append(in, QR_MODE_NUM, (int)(len - split),
	    (const unsigned char *)payload + split) != 0)) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "cannot build QR input");
		goto done;
	}
	if ((code = QRcode_encodeInput(in)) == NULL) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "a payload of %zu characters does not fit a QR code at "
		    "this error-correction level", len);
		goto done;
	}
	if ((qr = calloc(1, sizeof(*qr))) == NULL ||
	    (qr->dark = malloc((size_t)code->width * (size_t)code->width)) ==
	    NULL) {
		free(qr);
		qr = NULL;
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto done;
	}
	qr->version = code->version;
	qr->width = code->width;
	for (size_t i = 0; i < (size_t)code->width * (size_t)code->width; i++)
		qr->dark[i] = code->data[i] & 1;
	jcs_ok(ctx);
done:
	QRcode_free(code);
	QRinput_free(in);
	return qr;
}

void
jcs_qr_free(jcs_qr *qr)
{
	if (qr == NULL)
		return;
	free(qr->dark);
	free(qr);
}

int
jcs_qr_version(const jcs_qr *qr)
{
	return qr != NULL ? qr->version : 0;
}

int
jcs_qr_width(const jcs_qr *qr)
{
	return qr != NULL ? qr->width : 0;
}

const uint8_t *
jcs_qr_modules(const jcs_qr *qr)
{
	return qr->dark;
}

int
jcs_qr_module(const jcs_qr *qr, int x, int y)
{
	if (qr == NULL || x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->dark[(size_t)y * (size_t)qr->width + (size_t)x];
}
