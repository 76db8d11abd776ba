"""The meta protocol's stale-while-revalidate flow, win tokens, base64 keys, `me` and the
refusals of malformed flags, replayed from a corpus captured from Debian's memcached 1.6.18
(`memcached_meta_corpus.py`) against both memcached itself (so the corpus stays true) and
Strata. Values that vary between runs (CAS uniques, seconds) are matched as placeholders;
everything else byte for byte."""
import re

import pytest

from memcached_meta_corpus import SCENARIOS
from test_memcached import Session, memcached_reference, strata  # noqa: F401 (fixture)

PLACEHOLDER = re.compile(rb"<(CAS\d+|TTL:-?\d+|EXP:-?\d+|LA|NUM)>")


def template(expected):
    """A regex for an answer template, and the kind of each of its groups."""
    pattern, kinds, position = b"", [], 0
    for match in PLACEHOLDER.finditer(expected):
        pattern += re.escape(expected[position:match.start()])
        position = match.end()
        token = match.group(1).decode()
        if token.startswith("CAS"):
            pattern += rb"([1-9]\d*)"
            kinds.append(token)
        elif token.startswith("TTL:"):
            n = int(token[4:])
            pattern += b"(%d|%d)" % (n, n - 1)
            kinds.append(None)
        elif token.startswith("EXP:"):
            n = int(token[4:])
            pattern += b"(%d|%d)" % (n, n + 1)
            kinds.append(None)
        else:
            pattern += rb"(\d+)"
            kinds.append(None)
    return re.compile(pattern + re.escape(expected[position:]), re.S), kinds


def matches(expected, answer, bound):
    regex, kinds = template(expected)
    found = regex.fullmatch(answer)
    if not found:
        return False
    for kind, text in zip(kinds, found.groups()):
        if kind is None:
            continue
        value = int(text)
        if bound.setdefault(kind, value) != value:
            return False
        if any(other == value for name, other in bound.items() if name != kind):
            return False
    return True


def substituted(request, bound):
    return re.sub(rb"<(CAS\d+)([+-]\d+)?>",
                  lambda m: b"%d" % (bound[m.group(1).decode()] + int(m.group(2) or 0)), request)


def replay(port, requests, answers):
    session = Session(port)
    bound = {}
    try:
        for request, expected in zip(requests, answers):
            answer = session.ask(substituted(request, bound))
            assert matches(expected, answer, bound), (request, expected, answer)
    finally:
        session.close()


@pytest.fixture(scope="module")
def shared_reference():
    """One memcached for every scenario (each begins with flush_all)."""
    yield from memcached_reference()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0][:60] for s in SCENARIOS])
def test_memcached_answers_the_corpus(shared_reference, scenario):
    replay(shared_reference, scenario[1], scenario[2])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0][:60] for s in SCENARIOS])
def test_strata_answers_the_corpus_as_memcached(strata, scenario):  # noqa: F811
    replay(strata.memcached_port, scenario[1], scenario[2])
