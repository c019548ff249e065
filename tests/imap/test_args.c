/*
 * test_args.c - imap/args_*.c and listmatch: every typed grammar over
 * parsed command lines, valid and invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imap/args.h"
#include "cmd_util.h"
#include "util.h"

static void test_seqset(void **state)
{
	struct imap_seqset s;
	const char *err;

	(void)state;
	assert_true(imap_seqset_parse("1,3:5,9:7,20:*", false, &s, &err));
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[2].lo, 7);
	assert_int_equal(s.v[3].hi, IMAP_SEQ_STAR);
	imap_seqset_resolve(&s, 25);
	assert_true(imap_seqset_contains(&s, 4));
	assert_false(imap_seqset_contains(&s, 6));
	assert_true(imap_seqset_contains(&s, 25));
	assert_false(imap_seqset_contains(&s, 26));
	imap_seqset_free(&s);
	assert_true(imap_seqset_parse("30:*", false, &s, &err));
	imap_seqset_resolve(&s, 10); /* "*" is 10: 10:30 */
	assert_true(imap_seqset_contains(&s, 10));
	assert_false(imap_seqset_contains(&s, 9));
	imap_seqset_free(&s);
	assert_true(imap_seqset_parse("*", false, &s, &err));
	imap_seqset_resolve(&s, 0);
	assert_int_equal(s.n, 0);
	imap_seqset_free(&s);
	assert_true(imap_seqset_parse("$", true, &s, &err));
	assert_true(s.saved);
	assert_false(imap_seqset_parse("$", false, &s, &err));
	assert_false(imap_seqset_parse("0", false, &s, &err));
	assert_false(imap_seqset_parse("1,", false, &s, &err));
	assert_false(imap_seqset_parse("4294967296", false, &s, &err));
	assert_false(imap_seqset_parse("1:2:3", false, &s, &err));
	assert_false(imap_seqset_parse("", false, &s, &err));
}

static void test_fetch(void **state)
{
	const struct imap_command *c;
	struct imap_fetch f;
	const char *err;

	(void)state;
	c = cmd_parse("a FETCH 1 ALL\r\n");
	assert_true(imap_fetch_parse(c->args + 1, c->count - 1, &f, &err));
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				      IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE);
	imap_fetch_free(&f);
	c = cmd_parse("a UID FETCH 1:* (UID BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-A \"X-B\")]<10.20> "
		      "BINARY[3]<0.5> BINARY.SIZE[2] RFC822.HEADER body[] MODSEQ) (CHANGEDSINCE 12 "
		      "VANISHED)\r\n");
	assert_true(imap_fetch_parse(c->args + 1, c->count - 1, &f, &err));
	assert_int_equal(f.nbodies, 5);
	assert_true(f.bodies[0].peek);
	assert_int_equal(f.bodies[0].nparts, 2);
	assert_int_equal(f.bodies[0].section, IMAP_SECTION_FIELDS_NOT);
	assert_int_equal(f.bodies[0].nfields, 2);
	assert_string_equal(f.bodies[0].fields[1], "X-B");
	assert_true(f.bodies[0].partial);
	assert_int_equal(f.bodies[0].offset, 10);
	assert_int_equal(f.bodies[0].count, 20);
	assert_string_equal(f.bodies[0].name, "BODY[1.2.HEADER.FIELDS.NOT (X-A \"X-B\")]");
	assert_true(f.bodies[1].binary);
	assert_string_equal(f.bodies[1].name, "BINARY[3]");
	assert_true(f.bodies[2].binary_size);
	assert_string_equal(f.bodies[3].name, "RFC822.HEADER");
	assert_string_equal(f.bodies[4].name, "BODY[]");
	assert_true(f.items & IMAP_FETCH_SETS_SEEN);
	assert_true(f.items & IMAP_FETCH_MODSEQ);
	assert_true(f.changedsince_set && f.vanished);
	assert_int_equal(f.changedsince, 12);
	imap_fetch_free(&f);

	static const char *bad[] = {"a FETCH 1 (BODY[HEADER.FIELDS ()])\r\n",
	    "a FETCH 1 BINARY[TEXT]\r\n", "a FETCH 1 BODY[MIME]\r\n", "a FETCH 1 BODY[1]<5.0>\r\n",
	    "a FETCH 1 BODY[0]\r\n", "a FETCH 1 FOO\r\n", "a FETCH 1 ()\r\n",
	    "a FETCH 1 FLAGS (VANISHED)\r\n", "a FETCH 1 BODY[]x\r\n",
	    "a FETCH 1 BINARY.SIZE[1]<0.1>\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cmd_parse(bad[i]);
		assert_non_null(c);
		assert_false(imap_fetch_parse(c->args + 1, c->count - 1, &f, &err));
	}
	cmd_done();
}

static struct imap_search parse_search(const char *line, bool ok)
{
	const struct imap_command *c = cmd_parse(line);
	struct imap_search s;
	const char *err;

	assert_non_null(c);
	assert_int_equal(imap_search_parse(c->args, c->count, true, &s, &err), ok);
	return s;
}

static void test_search(void **state)
{
	struct imap_search s;
	const struct imap_search_node *k;

	(void)state;
	s = parse_search("a SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR FROM x (UNSEEN NOT 1:3) "
			 "HEADER X-Y \"\" SENTSINCE 1-Feb-1994 LARGER 10 UID $ MODSEQ "
			 "\"/flags/\\\\draft\" all 5 "
			 "YOUNGER 60 KEYWORD $Junk\r\n",
	    true);
	assert_string_equal(s.charset, "UTF-8");
	assert_true(s.esearch);
	assert_int_equal(s.ret, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_COUNT);
	k = s.root->child;
	assert_int_equal(k->key, IMAP_SK_OR);
	assert_int_equal(k->child->key, IMAP_SK_HEADER);
	assert_string_equal(k->child->str, "FROM");
	assert_int_equal(k->child->next->key, IMAP_SK_AND);
	assert_int_equal(k->child->next->child->key, IMAP_SK_FLAG);
	assert_true(k->child->next->child->negate);
	assert_int_equal(k->child->next->child->next->key, IMAP_SK_NOT);
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_HEADER);
	assert_string_equal(k->str2, "");
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_SENTSINCE);
	assert_int_equal(k->day, 8797); /* 1994-02-01 */
	k = k->next->next;
	assert_int_equal(k->key, IMAP_SK_UID);
	assert_true(k->set.saved);
	assert_true(imap_search_uses_saved(&s));
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_MODSEQ);
	assert_int_equal(k->num, 5);
	assert_int_equal(k->next->key, IMAP_SK_YOUNGER);
	assert_string_equal(k->next->next->str, "$Junk");
	imap_search_free(&s);
	s = parse_search("a SEARCH RETURN () 2,4:*\r\n", true);
	assert_int_equal(s.ret, IMAP_SEARCH_RETURN_ALL);
	assert_int_equal(s.root->child->key, IMAP_SK_SEQSET);
	imap_search_free(&s);

	static const char *bad[] = {"a SEARCH\r\n", "a SEARCH FOO\r\n", "a SEARCH OR A\r\n",
	    "a SEARCH BEFORE 1-Foo-2000\r\n", "a SEARCH LARGER x\r\n", "a SEARCH ()\r\n",
	    "a SEARCH KEYWORD \\Seen\r\n", "a SEARCH RETURN (BOGUS) ALL\r\n",
	    "a SEARCH YOUNGER 0\r\n", "a SEARCH CHARSET\r\n", "a SEARCH 0\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_search(bad[i], false);

	/* Nesting is bounded. */
	struct buf deep = BUF_INIT;
	buf_puts(&deep, "a SEARCH");
	for (int i = 0; i < 200; i++)
		buf_puts(&deep, " NOT");
	buf_puts(&deep, " ALL\r\n");
	parse_search(deep.data, false);
	buf_free(&deep);
	cmd_done();
}

static void test_store_flags(void **state)
{
	const struct imap_command *c;
	struct imap_store st;
	const char *err;

	(void)state;
	c = cmd_parse("a STORE 1 (UNCHANGEDSINCE 320162338) -FLAGS.SILENT (\\Deleted $Label1)\r\n");
	assert_true(imap_store_parse(c->args + 1, c->count - 1, &st, &err));
	assert_int_equal(st.op, IMAP_STORE_REMOVE);
	assert_true(st.silent);
	assert_true(st.unchangedsince_set);
	assert_int_equal(st.unchangedsince, 320162338);
	assert_string_equal(st.flags[1], "$Label1");
	assert_null(st.flags[2]);
	imap_store_free(&st);
	c = cmd_parse("a STORE 1 FLAGS \\Seen \\Answered\r\n");
	assert_true(imap_store_parse(c->args + 1, c->count - 1, &st, &err));
	assert_int_equal(st.op, IMAP_STORE_REPLACE);
	imap_store_free(&st);
	c = cmd_parse("a STORE 1 +FLAGS ()\r\n");
	assert_true(imap_store_parse(c->args + 1, c->count - 1, &st, &err));
	assert_null(st.flags[0]);
	imap_store_free(&st);
	static const char *bad[] = {"a STORE 1 +FLAGS (\\Recent)\r\n",
	    "a STORE 1 FLAG (\\Seen)\r\n", "a STORE 1 +FLAGS (a]b)\r\n",
	    "a STORE 1 (UNCHANGEDSINCE x) FLAGS ()\r\n", "a STORE 1 +FLAGS (\"q\")\r\n",
	    "a STORE 1\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cmd_parse(bad[i]);
		assert_false(imap_store_parse(c->args + 1, c->count - 1, &st, &err));
	}
	cmd_done();
}

static void test_list_status_select(void **state)
{
	const struct imap_command *c;
	struct imap_list l;
	struct imap_select sel;
	unsigned items;
	char *mbox;
	const char *err;

	(void)state;
	c = cmd_parse("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX\" %/x) RETURN (CHILDREN "
		      "STATUS (MESSAGES SIZE))\r\n");
	assert_true(imap_list_parse(c->args, c->count, &l, &err));
	assert_true(l.extended);
	assert_int_equal(l.select, IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_RECURSIVEMATCH);
	assert_string_equal(l.patterns[1], "%/x");
	assert_int_equal(l.ret, IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_STATUS);
	assert_int_equal(l.status_items, IMAP_STATUS_MESSAGES | IMAP_STATUS_SIZE);
	imap_list_free(&l);
	c = cmd_parse("a LIST \"\" *\r\n");
	assert_true(imap_list_parse(c->args, c->count, &l, &err));
	assert_false(l.extended);
	imap_list_free(&l);
	c = cmd_parse("a LIST (RECURSIVEMATCH) \"\" *\r\n");
	assert_false(imap_list_parse(c->args, c->count, &l, &err));
	c = cmd_parse("a LSUB \"\" Sent\r\n");
	assert_true(imap_lsub_parse(c->args, c->count, &l, &err));
	imap_list_free(&l);
	c = cmd_parse("a STATUS Sent (UIDNEXT HIGHESTMODSEQ APPENDLIMIT)\r\n");
	assert_true(imap_status_parse(c->args, c->count, &mbox, &items, &err));
	assert_string_equal(mbox, "Sent");
	assert_int_equal(
	    items, IMAP_STATUS_UIDNEXT | IMAP_STATUS_HIGHESTMODSEQ | IMAP_STATUS_APPENDLIMIT);
	free(mbox);
	c = cmd_parse("a STATUS Sent (BOGUS)\r\n");
	assert_false(imap_status_parse(c->args, c->count, &mbox, &items, &err));
	c = cmd_parse("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 "
		      "100:102)))\r\n");
	assert_true(imap_select_parse(c->args, c->count, &sel, &err));
	assert_true(sel.qresync);
	assert_int_equal(sel.uidvalidity, 67890007);
	assert_int_equal(sel.modseq, 20050715194045000ULL);
	assert_true(sel.known_uids_set && sel.seq_match_set);
	assert_int_equal(sel.known_uids.n, 3);
	imap_select_free(&sel);
	c = cmd_parse("a EXAMINE box (CONDSTORE)\r\n");
	assert_true(imap_select_parse(c->args, c->count, &sel, &err));
	assert_true(sel.condstore);
	imap_select_free(&sel);
	c = cmd_parse("a SELECT box (QRESYNC (0 1))\r\n");
	assert_false(imap_select_parse(c->args, c->count, &sel, &err));
	c = cmd_parse("a SELECT box (FOO)\r\n");
	assert_false(imap_select_parse(c->args, c->count, &sel, &err));
	cmd_done();
}

static void test_append(void **state)
{
	const struct imap_command *c;
	struct imap_append a;
	struct imap_append_msg m;
	const char *err;
	time_t t;
	int tz;

	(void)state;
	c = cmd_parse("a APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello"
		      " {3}\r\nabc UTF8 (~{2}\r\nxy)\r\n");
	assert_non_null(c);
	assert_true(imap_append_parse(c->args, c->count, &a, &err));
	assert_string_equal(a.mailbox, "saved-messages");
	assert_int_equal(a.nmsgs, 3);
	assert_string_equal(a.msgs[0].flags[0], "\\Seen");
	assert_true(a.msgs[0].date_set);
	assert_int_equal((long long)a.msgs[0].date, 760686745);
	assert_int_equal(a.msgs[0].tz_min, -480);
	assert_string_equal(a.msgs[0].msg->str, "hello");
	assert_null(a.msgs[1].flags);
	assert_true(a.msgs[2].utf8);
	imap_append_free(&a);
	/* At a literal announcement: the flags/date of the pending message. */
	c = cmd_parse("a APPEND box {1}\r\nx (\\Draft) \"01-Jan-2000 00:00:00 +0000\"\r\n");
	assert_true(imap_append_parse_pending(c->args, c->count, &m, &err));
	assert_string_equal(m.flags[0], "\\Draft");
	assert_true(m.date_set);
	imap_append_msg_free(&m);
	c = cmd_parse("a APPEND box\r\n");
	assert_false(imap_append_parse(c->args, c->count, &a, &err));
	c = cmd_parse("a APPEND box \"bad date\" {1}\r\nx\r\n");
	assert_false(imap_append_parse(c->args, c->count, &a, &err));
	assert_true(imap_datetime_parse("17-Jul-1996 02:44:25 -0700", 26, &t, &tz));
	assert_false(imap_datetime_parse("17-Jul-1996 02:44:25 -07x0", 26, &t, &tz));
	assert_false(imap_datetime_parse("17-Jux-1996 02:44:25 -0700", 26, &t, &tz));
	cmd_done();
}

static void test_sort_thread_misc(void **state)
{
	const struct imap_command *c;
	struct imap_sort so;
	struct imap_thread th;
	const char *err;
	char **v, *mech, *ir, *root;
	size_t irlen, nl;
	struct imap_quota_limit *limits;

	(void)state;
	c = cmd_parse("a SORT (REVERSE DATE DISPLAYFROM) UTF-8 SINCE 1-Feb-1994\r\n");
	assert_true(imap_sort_parse(c->args, c->count, &so, &err));
	assert_int_equal(so.ncrit, 2);
	assert_true(so.crit[0].reverse);
	assert_int_equal(so.crit[1].key, IMAP_SORT_DISPLAYFROM);
	assert_string_equal(so.search.charset, "UTF-8");
	imap_search_free(&so.search);
	c = cmd_parse("a SORT (REVERSE) UTF-8 ALL\r\n");
	assert_false(imap_sort_parse(c->args, c->count, &so, &err));
	c = cmd_parse("a THREAD REFERENCES US-ASCII ALL\r\n");
	assert_true(imap_thread_parse(c->args, c->count, &th, &err));
	assert_int_equal(th.alg, IMAP_THREAD_REFERENCES);
	imap_search_free(&th.search);
	c = cmd_parse("a THREAD FOO UTF-8 ALL\r\n");
	assert_false(imap_thread_parse(c->args, c->count, &th, &err));

	c = cmd_parse("a ENABLE condstore qresync\r\n");
	v = imap_enable_parse(c->args, c->count, &err);
	assert_string_equal(v[1], "QRESYNC");
	strv_free(v);
	c = cmd_parse("a ID (\"name\" \"x\" \"version\" NIL)\r\n");
	assert_true(imap_id_parse(c->args, c->count, &v, &err));
	assert_string_equal(v[0], "name");
	assert_string_equal(v[3], "");
	strv_free(v);
	c = cmd_parse("a ID (\"name\")\r\n");
	assert_false(imap_id_parse(c->args, c->count, &v, &err));
	c = cmd_parse("a COMPRESS DEFLATE\r\n");
	assert_true(imap_compress_parse(c->args, c->count, &err));
	c = cmd_parse("a SETQUOTA \"\" (STORAGE 512 message 10)\r\n");
	assert_true(imap_setquota_parse(c->args, c->count, &root, &limits, &nl, &err));
	assert_int_equal(nl, 2);
	assert_string_equal(limits[1].resource, "MESSAGE");
	assert_int_equal(limits[0].limit, 512);
	free(limits[0].resource);
	free(limits[1].resource);
	free(limits);
	free(root);
	c = cmd_parse("a AUTHENTICATE plain AHVzZXIAcGFzcw==\r\n");
	assert_true(imap_authenticate_parse(c->args, c->count, &mech, &ir, &irlen, &err));
	assert_string_equal(mech, "PLAIN");
	assert_string_equal(ir, "AHVzZXIAcGFzcw==");
	free(mech);
	free(ir);
	c = cmd_parse("a AUTHENTICATE PLAIN =\r\n");
	assert_true(imap_authenticate_parse(c->args, c->count, &mech, &ir, &irlen, &err));
	assert_int_equal(irlen, 0);
	free(mech);
	free(ir);
	assert_true(imap_idle_done("done\r\n", 6));
	assert_false(imap_idle_done("DONE x", 6));
	assert_true(imap_no_args(0, &err));
	assert_false(imap_no_args(1, &err));
	cmd_done();
}

static void test_list_match(void **state)
{
	(void)state;
	assert_true(imap_list_match("*", "a/b/c", '/'));
	assert_true(imap_list_match("%", "abc", '/'));
	assert_false(imap_list_match("%", "a/b", '/'));
	assert_true(imap_list_match("a/%", "a/b", '/'));
	assert_false(imap_list_match("a/%", "a/b/c", '/'));
	assert_true(imap_list_match("a*c", "a/b/c", '/'));
	assert_true(imap_list_match("a%%c", "abbc", '/'));
	assert_false(imap_list_match("a%c", "ab/c", '/'));
	assert_true(imap_list_match("", "", '/'));
	assert_false(imap_list_match("", "x", '/'));
	assert_true(imap_list_match("INBOX.*", "INBOX.Sent.2026", '.'));
	/* No exponential blow-up on a hostile pattern. */
	assert_false(imap_list_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", '/'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seqset),
	    cmocka_unit_test(test_fetch),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_store_flags),
	    cmocka_unit_test(test_list_status_select),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_sort_thread_misc),
	    cmocka_unit_test(test_list_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
