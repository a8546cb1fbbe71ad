"""Digest authentication: the RFCs' own examples, challenge parsing and the choice among challenges."""

from __future__ import annotations

import pytest

from resolvers.verification.digest import (
    Challenge,
    DigestAnswer,
    DigestError,
    parse_challenges,
    response,
    strongest,
)

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    "source, algorithm, realm, password, nonce, qop, nc, cnonce, expected",
    [
        pytest.param(
            "RFC 2617 §3.5",
            None,
            "testrealm@host.com",
            "Circle Of Life",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "auth",
            "00000001",
            "0a4f113b",
            "6629fae49393a05397450978507c4ef1",
            id="rfc2617-md5-qop-auth",
        ),
        pytest.param(
            "RFC 7616 §3.9.1",
            "MD5",
            "http-auth@example.org",
            "Circle of Life",
            RFC7616_NONCE,
            "auth",
            "00000001",
            RFC7616_CNONCE,
            "8ca523f5e9506fed4657c9700eebdbec",
            id="rfc7616-md5",
        ),
        pytest.param(
            "RFC 7616 §3.9.1",
            "SHA-256",
            "http-auth@example.org",
            "Circle of Life",
            RFC7616_NONCE,
            "auth",
            "00000001",
            RFC7616_CNONCE,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            id="rfc7616-sha256",
        ),
        pytest.param(
            "RFC 2069 §2.4 example, as corrected in its errata",
            None,
            "testrealm@host.com",
            "CircleOfLife",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            None,
            "",
            "",
            "1949323746fe6a43ef61f9606e7febea",
            id="rfc2069-no-qop",
        ),
    ],
)
def test_request_digest_matches_the_rfc_examples(
    source: str,
    algorithm: str | None,
    realm: str,
    password: str,
    nonce: str,
    qop: str | None,
    nc: str,
    cnonce: str,
    expected: str,
) -> None:
    params = {"realm": realm, "nonce": nonce}
    if algorithm:
        params["algorithm"] = algorithm
    digest = response(
        Challenge("Digest", params),
        username="Mufasa",
        password=password,
        method="GET",
        uri="/dir/index.html",
        qop=qop,
        nonce_count=nc,
        cnonce=cnonce,
    )
    assert digest == expected, source


def test_sha512_256_is_the_fips_hash_not_truncated_sha512() -> None:
    # RFC 7616 §3.9.2 prints ae66e67d… for these inputs, which is SHA-512 cut to 256 bits;
    # RFC 8760's SHA-512-256 is FIPS 180-4's SHA-512/256, with its own initial values.
    challenge = Challenge(
        "Digest",
        {
            "realm": "api@example.org",
            "nonce": "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
            "algorithm": "SHA-512-256",
        },
    )
    digest = response(
        challenge,
        username="Jäsøn Doe",
        password="Secret, or not?",
        method="GET",
        uri="/doe.json",
        qop="auth",
        nonce_count="00000001",
        cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
    )
    assert digest != "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
    assert digest == "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"


def test_sess_variant_hashes_the_nonces_into_ha1() -> None:
    base = {"realm": "r", "nonce": "n"}
    plain = response(
        Challenge("Digest", {**base, "algorithm": "SHA-256"}),
        username="u",
        password="p",
        method="REGISTER",
        uri="sip:r",
        qop="auth",
        nonce_count="00000001",
        cnonce="c",
    )
    sess = response(
        Challenge("Digest", {**base, "algorithm": "SHA-256-sess"}),
        username="u",
        password="p",
        method="REGISTER",
        uri="sip:r",
        qop="auth",
        nonce_count="00000001",
        cnonce="c",
    )
    assert plain != sess and len(sess) == 64


def test_authorization_header_carries_every_parameter_and_a_rising_nonce_count() -> None:
    challenge = parse_challenges(
        'Digest realm="registrar.test", nonce="abc", qop="auth,auth-int", algorithm=SHA-256, opaque="xyz"'
    )[0]
    answer = DigestAnswer(challenge, 'a"b', "secret-password", cnonce="0a4f113b")
    first = answer.authorization("REGISTER", "sip:registrar.test")
    second = answer.authorization("REGISTER", "sip:registrar.test")
    assert first.startswith("Digest ")
    for part in [
        'username="a\\"b"',
        'realm="registrar.test"',
        'nonce="abc"',
        'uri="sip:registrar.test"',
        "algorithm=SHA-256",
        'opaque="xyz"',
        "qop=auth",
        "nc=00000001",
        'cnonce="0a4f113b"',
    ]:
        assert part in first
    assert "nc=00000002" in second
    assert "secret-password" not in first + second
    assert "secret-password" not in repr(answer)


def test_auth_int_is_used_when_it_is_the_only_qop() -> None:
    challenge = parse_challenges('Digest realm="r", nonce="n", qop="auth-int"')[0]
    assert "qop=auth-int" in DigestAnswer(challenge, "u", "p").authorization("REGISTER", "sip:r")


def test_challenges_parse_with_quoted_commas_escapes_and_several_in_one_value() -> None:
    value = (
        'Digest realm="a, \\"quoted\\" realm", nonce="n1", qop="auth, auth-int", algorithm=MD5, '
        'Digest realm="b", nonce=n2, algorithm="SHA-256", Basic realm="basic"'
    )
    challenges = parse_challenges(value)
    assert [c.scheme for c in challenges] == ["Digest", "Digest", "Basic"]
    assert challenges[0].realm == 'a, "quoted" realm'
    assert challenges[0].qop_options == ["auth", "auth-int"]
    assert challenges[1].params["nonce"] == "n2" and challenges[1].algorithm == "SHA-256"
    assert challenges[2].unsupported_reason() == "the Basic authentication scheme"


@pytest.mark.parametrize("value", ['Digest realm="unterminated', 'Digest realm="r", nonce=@bad', "= nonsense"])
def test_unreadable_challenges_raise(value: str) -> None:
    with pytest.raises(DigestError):
        parse_challenges(value)


def test_too_many_parameters_are_refused() -> None:
    with pytest.raises(DigestError):
        parse_challenges("Digest " + ", ".join(f"p{i}=v" for i in range(100)))


@pytest.mark.parametrize(
    "offered, chosen",
    [
        (["MD5", "SHA-256"], "SHA-256"),
        (["SHA-256", "MD5"], "SHA-256"),
        (["MD5", "SHA-512-256", "SHA-256"], "SHA-512-256"),
        (["AKAv1-MD5", "MD5"], "MD5"),
        (["MD5-sess", "SHA-256-sess"], "SHA-256-SESS"),
    ],
)
def test_the_strongest_algorithm_offered_is_chosen(offered: list[str], chosen: str) -> None:
    challenges = [Challenge("Digest", {"realm": "r", "nonce": "n", "algorithm": a}) for a in offered]
    best = strongest(challenges)
    assert best is not None and best.algorithm == chosen


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"realm": "r", "nonce": "n", "algorithm": "AKAv1-MD5"}, "the digest algorithm AKAV1-MD5"),
        ({"realm": "r"}, "a digest challenge without a nonce"),
        ({"realm": "r", "nonce": "n", "qop": "auth-conf"}, "the digest qop auth-conf"),
    ],
)
def test_challenges_that_cannot_be_answered_say_why(params: dict[str, str], reason: str) -> None:
    challenge = Challenge("Digest", params)
    assert challenge.unsupported_reason() == reason
    assert strongest([challenge]) is None
    with pytest.raises(DigestError):
        DigestAnswer(challenge, "u", "p")
