/*
 * html_text.h - the text a reader sees of an HTML body, for previews
 * and text searches (JMAP's preview, Sieve's body :text): tags removed,
 * what <head>, <style>, <script> and <title> hold dropped, a line break
 * or a space where a tag separated words, and the character references
 * (&amp; &lt; &gt; &quot; &apos; &nbsp; &#N; &#xN;) decoded.  Not a
 * renderer: no layout, no other named references (left as written).
 * Input and output are UTF-8 (the caller decoded the part's charset).
 */
#ifndef TERN_MIME_HTML_TEXT_H
#define TERN_MIME_HTML_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Appends the text of html[0..len) to out. */
void mime_html_text(const char *html, size_t len, struct buf *out);

#endif
