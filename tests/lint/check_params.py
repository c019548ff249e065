#!/usr/bin/env python3
"""check_params.py - every main.cf parameter the code names is declared in
lib/params.c, and every declared one is documented in man/main.cf.5.

Run by `make check` (target param-check) from the top of the tree; exits 1
with one line per problem.  What counts as naming a parameter:
  - a string literal passed to config_str, config_int, config_bool,
    config_time, config_size, config_raw, config_is_set, config_list or
    config_set;
  - a string literal passed to a helper whose `const char *NAME` argument
    goes straight into one of those (e.g. qmgr_limit("...")), found in the
    same file;
  - "$name" and "${name}" references inside the defaults of lib/params.c.
Names built at run time ("<transport>_destination_concurrency_limit") are
not seen; a literal inside a call of a helper in PREFIXED below (the smtp
agent's smtp_pname("sasl_auth_enable"), which is smtp_sasl_auth_enable or
lmtp_sasl_auth_enable) names each prefixed parameter.  Documentation is a `.B name` or `.BR name ...` line in the
PARAMETERS section of main.cf(5); a documented name missing from the
table is reported too (the page would describe a parameter tern ignores).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_FUNCS = ("config_str", "config_int", "config_bool", "config_time", "config_size",
                "config_raw", "config_is_set", "config_list", "config_set")
# A function definition: name, parameter list, body (up to a "}" in column 0).
DEFN = re.compile(r"^\w[\w \*]*?\b(\w+)\(([^;{)]*)\)\s*\{(.*?)^\}", re.M | re.S)
TABLE = re.compile(r"^\s*(?:STR|INT|BOOL|SIZE|TIME|LIST|NAME)\(\s*\"(\w+)\",\s*(NULL|\"((?:[^\"\\]|\\.)*)\")",
                   re.M)
REF = re.compile(r"\$\{?(\w+)")
LITERAL = re.compile(r"\"((?:[^\"\\]|\\.)*)\"")
# Helpers that make a parameter name from a suffix: the prefixes they use.
PREFIXED = {"smtp_pname": ("smtp_", "lmtp_"), "tls_pname": ("smtp_", "lmtp_")}
# Expansion variables of a parameter's own (local's forward_path knows the
# recipient's $home, $user, ...), not parameters.
LOCAL_VARS = {"forward_path": {"home", "user", "extension", "recipient", "local", "domain",
                               "mailbox", "shell", "recipient_delimiter"}}


def sources():
    skip = {"build", "tests", "web", "run", ".git"}
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not (top == ROOT and d in skip))
        for f in sorted(files):
            if f.endswith(".c"):
                yield os.path.join(top, f)


def call_args(text, start):
    """The top-level arguments of the call whose "(" is at start."""
    depth, args, cur, i = 0, [], "", start
    while i < len(text):
        c = text[i]
        if c == '"':
            m = LITERAL.match(text, i)
            cur += m.group(0)
            i = m.end()
            continue
        if c == "(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append(cur)
                return args
        elif c == "," and depth == 1:
            args.append(cur)
            cur = ""
            i += 1
            continue
        cur += c
        i += 1
    return args


def param_funcs(text):
    """{function: index of its argument that is a parameter name}: the
    config_* functions and this file's helpers that pass an argument on."""
    funcs = {f: 0 for f in CONFIG_FUNCS}
    for m in DEFN.finditer(text):
        name, params, body = m.groups()
        for k, p in enumerate(params.split(",")):
            arg = re.match(r"\s*const char \*(\w+)\s*$", p)
            if arg and re.search(r"\b(%s)\(\s*%s\s*[,)]" % ("|".join(CONFIG_FUNCS), arg.group(1)),
                                 body):
                funcs[name] = k
    return funcs


def used_names():
    """(name, file:line) for every parameter named in the code."""
    out = []
    for path in sources():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        rel = os.path.relpath(path, ROOT)
        funcs = param_funcs(text)
        for m in re.finditer(r"\b(%s)\s*\(" % "|".join(sorted(funcs)), text):
            args = call_args(text, m.end() - 1)
            k = funcs[m.group(1)]
            if k >= len(args):
                continue
            line = "%s:%d" % (rel, text.count("\n", 0, m.start()) + 1)
            pm = re.match(r"\s*(%s)\s*\(" % "|".join(PREFIXED), args[k])
            if pm:
                for lit in LITERAL.findall(args[k]):
                    out.extend((pre + lit, line) for pre in PREFIXED[pm.group(1)])
                continue
            for lit in LITERAL.findall(args[k]):
                out.append((lit, line))
    return out


def table():
    with open(os.path.join(ROOT, "lib", "params.c"), encoding="utf-8") as f:
        text = f.read()
    names, refs = {}, []
    for m in TABLE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) in names:
            refs.append((None, "lib/params.c:%d: %s declared twice" % (line, m.group(1))))
        names[m.group(1)] = line
        for r in REF.findall(m.group(3) or ""):
            if r not in LOCAL_VARS.get(m.group(1), ()):
                refs.append((r, "lib/params.c:%d (default of %s)" % (line, m.group(1))))
    return names, refs


def documented():
    """Names on the .TP header lines of main.cf(5)'s PARAMETERS section."""
    with open(os.path.join(ROOT, "man", "main.cf.5"), encoding="utf-8") as f:
        text = f.read()
    text = text[text.index("\n.SH PARAMETERS"):]
    end = text.find("\n.SH ", 1)
    lines = (text if end < 0 else text[:end]).split("\n")
    # A header names parameters; what is in parentheses is a default.
    heads = [re.sub(r"\([^)]*\)", "", lines[i + 1])
             for i in range(len(lines) - 1) if lines[i] == ".TP"]
    return set(w for h in heads for w in re.findall(r"\b[a-z]\w*_\w+\b|\bmy\w+|\brelayhost\b", h))


def main():
    names, refs = table()
    problems = []
    for name, where in refs:
        if name is None:
            problems.append(where)
        elif name not in names:
            problems.append("%s: $%s is not a parameter in lib/params.c" % (where, name))
    for name, where in used_names():
        if name not in names:
            problems.append("%s: %s is not declared in lib/params.c" % (where, name))
    docs = documented()
    for name, line in sorted(names.items(), key=lambda x: x[1]):
        if name not in docs:
            problems.append("lib/params.c:%d: %s is not documented in man/main.cf.5"
                            % (line, name))
    for name in sorted(docs - set(names)):
        problems.append("man/main.cf.5: documents %s, which lib/params.c does not declare"
                        % name)
    for p in problems:
        print(p)
    if problems:
        print("check_params: %d problem(s)" % len(problems))
        return 1
    print("check_params: %d parameters, all declared and documented" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
