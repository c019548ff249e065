/*
 * mime/decode.c - base64 and quoted-printable decoders (mime/decode.h).
 */
#include "mime/decode.h"

#include <string.h>
#include <strings.h>

#include "base64.h"
#include "util.h"

void mime_b64_init(struct mime_b64 *d)
{
	memset(d, 0, sizeof(*d));
}

void mime_b64_feed(struct mime_b64 *d, const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = base64_value(c, '/');

		if (v < 0) {
			if (c == '=')
				d->pad++;
			else if (c != '\r' && c != '\n' && c != ' ' && c != '\t')
				d->bad = true;
			continue;
		}
		if (d->pad)
			d->bad = true; /* data after padding: keep decoding */
		d->acc = (d->acc << 6) | (unsigned)v;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			buf_putc(out, (int)((d->acc >> d->nbits) & 0xff));
			d->acc &= (1u << d->nbits) - 1;
		}
	}
}

bool mime_b64_finish(struct mime_b64 *d, struct buf *out)
{
	(void)out;
	/* Left-over bits must be the zero fill of a padded quantum. */
	if (d->nbits >= 6 || (d->nbits && d->acc != 0))
		d->bad = true;
	if (d->nbits == 4 && d->pad != 1 && d->pad != 2)
		d->bad = true;
	if (d->nbits == 2 && d->pad != 1)
		d->bad = true;
	return !d->bad;
}

void mime_b64_encode(const void *in, size_t len, struct buf *out)
{
	base64_encode(in, len, out);
}

/* Quoted-printable states. */
enum {
	QP_TEXT,
	QP_EQ,	   /* after '=' */
	QP_EQ_HEX, /* after '=' and one hex digit (hex1) */
	QP_EQ_WS,  /* after '=' and white space: a soft break with padding? */
	QP_CR,	   /* after a CR in text */
	QP_EQ_CR,  /* after "=" [ws] CR */
};

void mime_qp_init(struct mime_qp *d)
{
	memset(d, 0, sizeof(*d));
}

static void qp_flush_ws(struct mime_qp *d, struct buf *out)
{
	buf_append(out, d->ws, d->nws);
	d->nws = 0;
}

static void qp_ws(struct mime_qp *d, char c, struct buf *out)
{
	if (d->nws == sizeof(d->ws))
		qp_flush_ws(d, out); /* too long to be transport padding */
	d->ws[d->nws++] = c;
}

/* One character in QP_TEXT. */
static void qp_text(struct mime_qp *d, char c, struct buf *out)
{
	if (c == ' ' || c == '\t') {
		qp_ws(d, c, out);
	} else if (c == '\n') {
		d->nws = 0; /* trailing white space is transport padding */
		buf_putc(out, '\n');
	} else if (c == '\r') {
		d->state = QP_CR;
	} else if (c == '=') {
		qp_flush_ws(d, out);
		d->state = QP_EQ;
	} else {
		qp_flush_ws(d, out);
		buf_putc(out, c);
	}
}

/* An '=' that does not start a valid escape: kept as written. */
static void qp_bad_eq(struct mime_qp *d, struct buf *out)
{
	d->bad = true;
	buf_putc(out, '=');
	d->state = QP_TEXT;
}

static void qp_step(struct mime_qp *d, char c, struct buf *out)
{
	switch (d->state) {
	case QP_TEXT: qp_text(d, c, out); break;
	case QP_CR:
		d->state = QP_TEXT;
		if (c == '\n') {
			d->nws = 0;
			buf_append(out, "\r\n", 2);
		} else {
			qp_flush_ws(d, out);
			buf_putc(out, '\r');
			qp_text(d, c, out);
		}
		break;
	case QP_EQ:
		if (hex_value(c) >= 0) {
			d->hex1 = c;
			d->state = QP_EQ_HEX;
		} else if (c == '\n') {
			d->state = QP_TEXT; /* soft line break */
		} else if (c == '\r') {
			d->state = QP_EQ_CR;
		} else if (c == ' ' || c == '\t') {
			d->state = QP_EQ_WS;
		} else {
			qp_bad_eq(d, out);
			qp_text(d, c, out);
		}
		break;
	case QP_EQ_HEX:
		d->state = QP_TEXT;
		if (hex_value(c) >= 0) {
			buf_putc(out, hex_value(d->hex1) * 16 + hex_value(c));
		} else {
			qp_bad_eq(d, out);
			buf_putc(out, d->hex1);
			qp_text(d, c, out);
		}
		break;
	case QP_EQ_WS:
		if (c == '\n')
			d->state = QP_TEXT;
		else if (c == '\r')
			d->state = QP_EQ_CR;
		else if (c != ' ' && c != '\t') {
			qp_bad_eq(d, out);
			qp_text(d, c, out);
		}
		break;
	case QP_EQ_CR:
		d->state = QP_TEXT;
		if (c != '\n') {
			d->bad = true;
			qp_text(d, c, out);
		}
		break;
	}
}

void mime_qp_feed(struct mime_qp *d, const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++)
		qp_step(d, in[i], out);
}

bool mime_qp_finish(struct mime_qp *d, struct buf *out)
{
	switch (d->state) {
	case QP_CR: buf_putc(out, '\r'); break;
	case QP_EQ_HEX:
		d->bad = true;
		buf_putc(out, '=');
		buf_putc(out, d->hex1);
		break;
	case QP_EQ: /* "=" at the very end: a soft break without its line end */
	case QP_EQ_WS:
	case QP_EQ_CR:
	case QP_TEXT: break;
	}
	d->nws = 0; /* trailing white space of the last line */
	d->state = QP_TEXT;
	return !d->bad;
}

enum mime_cte mime_cte_from_name(const char *name)
{
	if (name == NULL || *name == 0 || strcasecmp(name, "7bit") == 0)
		return MIME_CTE_7BIT;
	if (strcasecmp(name, "8bit") == 0)
		return MIME_CTE_8BIT;
	if (strcasecmp(name, "binary") == 0)
		return MIME_CTE_BINARY;
	if (strcasecmp(name, "quoted-printable") == 0)
		return MIME_CTE_QP;
	if (strcasecmp(name, "base64") == 0)
		return MIME_CTE_BASE64;
	return MIME_CTE_UNKNOWN;
}

void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	d->cte = cte;
	mime_b64_init(&d->b64);
	mime_qp_init(&d->qp);
}

void mime_decoder_feed(struct mime_decoder *d, const char *in, size_t len, struct buf *out)
{
	if (d->cte == MIME_CTE_BASE64)
		mime_b64_feed(&d->b64, in, len, out);
	else if (d->cte == MIME_CTE_QP)
		mime_qp_feed(&d->qp, in, len, out);
	else
		buf_append(out, in, len);
}

bool mime_decoder_finish(struct mime_decoder *d, struct buf *out)
{
	if (d->cte == MIME_CTE_BASE64)
		return mime_b64_finish(&d->b64, out);
	if (d->cte == MIME_CTE_QP)
		return mime_qp_finish(&d->qp, out);
	return d->cte != MIME_CTE_UNKNOWN;
}
