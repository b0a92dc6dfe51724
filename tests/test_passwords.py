"""Tests for mail.passwords against hashes made by Dovecot, PHP, OpenSSL and coreutils.

Every vector below was produced outside the code under test, in a shell, for the
password "test123" unless stated otherwise; the command is noted next to each one.
"""

import os
import subprocess

import pytest
from django.conf import settings

from mail import passwords
from tests.support.tools import require_tool

# Standalone runs (-p no:django, no DJANGO_SETTINGS_MODULE) need bare settings; under
# pytest-django the project settings are already loaded and must not be replaced.
if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure()

PASSWORD = "test123"
WRONG = "test124"

VECTORS: list[tuple[str, str]] = [
    # --- crypt(3) strings without prefix (Postfix Admin md5crypt / system / php_crypt) ---
    # openssl passwd -1 test123
    ("md5-crypt", "$1$oET3iVMt$f7SviWPYkwo7SZaWZmomR/"),
    # php -r 'echo password_hash("test123", PASSWORD_BCRYPT);'
    ("bcrypt-2y", "$2y$10$Y0X3JJr5580RWPh/yMZmCuKp.S2n7tnTEo1H8MwXt9xvYoabsVo56"),
    # htpasswd -nbB u test123
    ("bcrypt-2y-htpasswd", "$2y$05$MKN2QUcytCR5XqzKl8oPJ.Mcb6m67cCmBhacuWz4GMcV8vVshQrMu"),
    # php -r 'echo crypt("test123", "$2b$10$" . <22 random salt chars>);'
    ("bcrypt-2b", "$2b$10$JB7py1hkpfYl52MpQEtRhu525i6iCPC7izNUqrrY5VHkfzpLikIb."),
    # php -r 'echo crypt("test123", "$2a$10$" . <22 random salt chars>);'
    ("bcrypt-2a", "$2a$10$RmYsKotrfEmGGnCCOlE3dun27clNouYUi1vTmkuVDx2vh5Ch3W1Mq"),
    # openssl passwd -5 test123
    ("sha256-crypt", "$5$o/HhCot1JYiTo5Jq$vk4Rnq9nIZg6ATSXr7aYXflNx38wqJnvY8qWtPKzNn1"),
    # php -r 'echo crypt("test123", "$5$rounds=10000$" . bin2hex(random_bytes(8)) . "$");'
    (
        "sha256-crypt-rounds",
        "$5$rounds=10000$7d321f3ac0d25806$iOqtRq5IOjKklEcASbvwp9LmoCYexaz2Y1DUMhpweNA",
    ),
    # openssl passwd -6 test123
    (
        "sha512-crypt",
        "$6$iM02.SrWXQwKgYxk$XITxV7ArJp6tBVcFsW97RDF13m/LKEOBLuE4yVH0E70BTTeWNqMpCJaawwBRku6"
        "ThaOQsNQEi1PTWhN8TOBfo/",
    ),
    # php -r 'echo crypt("test123", "$6$rounds=10000$" . bin2hex(random_bytes(8)) . "$");'
    (
        "sha512-crypt-rounds",
        "$6$rounds=10000$57d80c003026ff6a$uFSWZ3DlvMM1MFC2eXFBukG6RuJDZbH/p0wpoNRL5qhykvzFXHMPa"
        "rJmmYuCnAzxIx3ql7TFnkanlP8QsbN6l1",
    ),
    # php -r 'echo crypt("test123", "Xy");'
    ("des-crypt", "XyCYz3uCYMJLk"),
    # printf test123 | md5sum   (Postfix Admin "md5")
    ("md5-hex", "cc03e747a6afbbcbf8be7668acfebee5"),
    # --- Dovecot schemes: doveadm pw -s SCHEME -p test123 (Dovecot 2.3.19) ---
    ("dovecot-MD5-CRYPT", "{MD5-CRYPT}$1$KRvX424j$nIepY3vuIpDopTEOFqw7S."),
    ("dovecot-MD5", "{MD5}$1$hRcdCdAe$AIrZkqv0qvwxtKImmlQba."),
    (
        "dovecot-SHA256-CRYPT",
        "{SHA256-CRYPT}$5$6MF0e1okzc1vzwrw$skPwTJmS17IcwJVlYeT77THP0aMBrwTM9iYuLvyWxP4",
    ),
    (
        "dovecot-SHA512-CRYPT",
        "{SHA512-CRYPT}$6$VkWUe0WpcI251wCy$xr5G85bglZjAN9NXP6.bPBerriAF3nFSsNc6Edf12IgbTEVHqgJzD2"
        "j63SkeM0azsgWoL0Kqt7VbDXLjHu8RH1",
    ),
    # doveadm pw -s SHA256-CRYPT -r 10000 -p test123
    (
        "dovecot-SHA256-CRYPT-rounds",
        "{SHA256-CRYPT}$5$rounds=10000$7FfhYsghUo/t9Si1$29bPwV90z9hWSOyT8p6p2nguCKj7yhEydp0XJA1jHZ/",
    ),
    # doveadm pw -s SHA512-CRYPT -r 10000 -p test123
    (
        "dovecot-SHA512-CRYPT-rounds",
        "{SHA512-CRYPT}$6$rounds=10000$CAzM0tlGufsB2BUL$aQDV5aWKoBT3irowkCf4drQ8cm7lSaUEdu92KdRDTQ"
        "tcXJuBVwxdqsXCmu0OfSHQqbHph73zxHWQsBLqT1Nb00",
    ),
    (
        "dovecot-BLF-CRYPT",
        "{BLF-CRYPT}$2y$05$itlO74kIH8lwTY8/1ILvWeoFXJIgcQNb/g7hRuIYCulxT/ITJyxv2",
    ),
    ("dovecot-CRYPT", "{CRYPT}$2y$05$gD8c4Ze0EXbdguVHC5Dji.gmwFW5vjsqLs7PssTWGDX7f3avFleP6"),
    ("dovecot-DES-CRYPT", "{DES-CRYPT}wXcfHnouEB94Y"),
    (
        "dovecot-ARGON2I",
        "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$isb7qcYxFkGH3ivHJ+BJVQ$2s3ydf6v8/gRPwntNdHLKB/KGGYq"
        "fmEAXy6pP0YT4aM",
    ),
    (
        "dovecot-ARGON2ID",
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$RWSfXB1RXu7Sv5aXIoFWtg$dW9Lp+Fc7bMWt0go5HSPkGetA"
        "efP5TbQH2xhwisGPcw",
    ),
    ("dovecot-SSHA", "{SSHA}U/fKXzav7lITpi/mL7ib8K3i7k606OKG"),
    ("dovecot-SSHA256", "{SSHA256}IuIAS64ScDZQ2CpOnZArugtVoJDzDC9Sq98dy4iBcW6Vm3wt"),
    (
        "dovecot-SSHA512",
        "{SSHA512}XMyur4oXixjE6P3yzQV7kw534rg+DK5R80jG2bJJ/QnkEqKEWCIYFNz+Dey/6esO/9F9NLswqY/z+iXD0"
        "dFHKHSsHyQ=",
    ),
    ("dovecot-SMD5", "{SMD5}UF1kYMtmMy5X9I8KGXBP6zxuyBE="),
    ("dovecot-SHA", "{SHA}cojt0Pw//L6ToM8G41aOKFIWh7w="),
    ("dovecot-SHA1", "{SHA1}cojt0Pw//L6ToM8G41aOKFIWh7w="),
    ("dovecot-SHA256", "{SHA256}7NcYcNGWMxapfjrDQIyYNa2M8PPBvHA1J8MCZVNPda4="),
    (
        "dovecot-SHA512",
        "{SHA512}2u9JU7l4M2XK1mFSI3IFBsxGxRZ80Wq1APpZeqCP+WTrJPsZaH8012Zfd4/LbFNY/ApbgeFmLPkPc6JnHF"
        "P5kQ==",
    ),
    ("dovecot-PLAIN-MD5", "{PLAIN-MD5}cc03e747a6afbbcbf8be7668acfebee5"),
    ("dovecot-LDAP-MD5", "{LDAP-MD5}zAPnR6avu8v4vnZorP6+5Q=="),
    ("dovecot-PLAIN", "{PLAIN}test123"),
    ("dovecot-CLEAR", "{CLEAR}test123"),
    ("dovecot-CLEARTEXT", "{CLEARTEXT}test123"),
    (
        "dovecot-SCRAM-SHA-1",
        "{SCRAM-SHA-1}4096,S1XNzmlmlb8eN0c/2yWi7g==,V4cwKs4+WhAUU8dZFfmrgJ+JNWU=,t5I9KNqPph5ELCHqmQ"
        "QubI6Vn3A=",
    ),
    (
        "dovecot-SCRAM-SHA-256",
        "{SCRAM-SHA-256}4096,0x2kkfI0AjgLt/7LNOj1LA==,OvZGcrwVtwJl+99nkR3hkVHMyZEnkvYfAhshpruPeB8="
        ",AwOnhQPYBjExqJto6U1NP1OOHYOSXVMVmF+rZR6W7sU=",
    ),
    # --- Dovecot encoding suffixes: doveadm pw -s SCHEME.B64 / SCHEME.HEX -p test123 ---
    (
        "dovecot-SHA512-CRYPT.B64",
        "{SHA512-CRYPT.B64}JDYkTzBqczdFSEdrcnhpcWNOSyRVSnV1eXgyYWxUQ2F2SEZ5M3JKMlJQOHNVSldPZ3p0TFF"
        "RNFRUTkNNUEhwVGdhbFNvbjBVUnFyZi8zNFplVm9ULklWMXVkV1EyMS5QRXg3UVRJN1drLg==",
    ),
    (
        "dovecot-SHA256-CRYPT.B64",
        "{SHA256-CRYPT.B64}JDUkbUFkc2Y5dzFGQmpNRzF1SSR2aGFRdm5kUDJlejNzTzBETmZNWFdHTklidTRDMXhSa2E"
        "3T21rQkh0bVIw",
    ),
    ("dovecot-MD5-CRYPT.B64", "{MD5-CRYPT.B64}JDEkNm5JMlkvTEMkSXVhbW9DU3VRLndTUk5oZmxWb2xnLg=="),
    (
        "dovecot-BLF-CRYPT.B64",
        "{BLF-CRYPT.B64}JDJ5JDA1JFFaOGlDUHFVY3BvdEdWYXp3bTdkLk94QktHUDRZZW1yWVcxa2VDMVIyWk9xM3ouNm"
        "9iR0ph",
    ),
    (
        "dovecot-ARGON2ID.B64",
        "{ARGON2ID.B64}JGFyZ29uMmlkJHY9MTkkbT02NTUzNix0PTMscD0xJHZtRnE0VHE3VFlkWDFpWmdGSjJESmckaU"
        "dWU3c0bkVCSlJzR0NacW9OUi9ybCtPQ3Y1Z0xLeFFTR01vaWNJZzl5VQ==",
    ),
    (
        "dovecot-ARGON2I.B64",
        "{ARGON2I.B64}JGFyZ29uMmkkdj0xOSRtPTMyNzY4LHQ9NCxwPTEkbENxMlI3UGhHTk1iMmx6QkpMWlF2USRlRkd4"
        "ZVAyNGlLRDBsVG9UUWthbFhjeFY4SjRtQncvY05XMkRlYUpjK1Vv",
    ),
    ("dovecot-SHA1.B64", "{SHA1.B64}cojt0Pw//L6ToM8G41aOKFIWh7w="),
    ("dovecot-SHA1.HEX", "{SHA1.HEX}7288edd0fc3ffcbe93a0cf06e3568e28521687bc"),
    (
        "dovecot-SHA256.HEX",
        "{SHA256.HEX}ecd71870d1963316a97e3ac3408c9835ad8cf0f3c1bc703527c30265534f75ae",
    ),
    (
        "dovecot-SHA512.HEX",
        "{SHA512.HEX}daef4953b9783365cad6615223720506cc46c5167cd16ab500fa597aa08ff964eb24fb19687f3"
        "4d7665f778fcb6c5358fc0a5b81e1662cf90f73a2671c53f991",
    ),
    ("dovecot-SSHA.HEX", "{SSHA.HEX}c4d16eb954706f296f92eefbc6e88fa23d11f1a9f5abca03"),
    (
        "dovecot-SSHA512.B64",
        "{SSHA512.B64}96Hr7EvtKZOtHRXRJXfr2NxdjJo1OfeRY3ujzMZ9bxxGDGqaRdWqBcNlaA3Jkjs/5wsUTRNZ57H/"
        "3451dlTvD3R5j4Y=",
    ),
    ("dovecot-PLAIN-MD5.B64", "{PLAIN-MD5.B64}zAPnR6avu8v4vnZorP6+5Q=="),
    ("dovecot-PLAIN.B64", "{PLAIN.B64}dGVzdDEyMw=="),
    # --- Prefix + external hash, each accepted by `doveadm pw -t HASH -p test123` ---
    # "{SHA1}" + printf test123 | sha1sum   (Dovecot reads hex by length)
    ("SHA1-hex-by-length", "{SHA1}7288edd0fc3ffcbe93a0cf06e3568e28521687bc"),
    # "{CRYPT}" + php -r 'echo crypt("test123", "Xy");'
    ("CRYPT-des", "{CRYPT}XyCYz3uCYMJLk"),
    # "{CRYPT}" + openssl passwd -1 test123
    ("CRYPT-md5", "{CRYPT}$1$oET3iVMt$f7SviWPYkwo7SZaWZmomR/"),
    # "{SHA512-CRYPT}" + php crypt "$6$rounds=10000$..." (see sha512-crypt-rounds)
    (
        "SHA512-CRYPT-php-rounds",
        "{SHA512-CRYPT}$6$rounds=10000$57d80c003026ff6a$uFSWZ3DlvMM1MFC2eXFBukG6RuJDZbH/p0wpoNRL5q"
        "hykvzFXHMParJmmYuCnAzxIx3ql7TFnkanlP8QsbN6l1",
    ),
    # Postfix Admin argon2id: "{ARGON2ID}" + php -r 'echo password_hash("test123",
    # PASSWORD_ARGON2ID);'
    (
        "pfa-ARGON2ID-php",
        "{ARGON2ID}$argon2id$v=19$m=65536,t=4,p=1$RVBBVzY0MEt6SktHVHJDLw$hBZbHGy5igCxV13uIq4l89Klf"
        "xsRg5yk3Ch2zx2AwMg",
    ),
    # Postfix Admin argon2i: "{ARGON2I}" + php -r 'echo password_hash("test123",
    # PASSWORD_ARGON2I);'
    (
        "pfa-ARGON2I-php",
        "{ARGON2I}$argon2i$v=19$m=65536,t=4,p=1$ZktXL0hDTS90Ymc4ekhJVw$e+1TkUbh70HQ5ItA4WC76/gkQPEt"
        "pWZJCjOa9/o7fzA",
    ),
    # "{BLF-CRYPT}" + the php $2b$ hash above
    ("BLF-CRYPT-2b", "{BLF-CRYPT}$2b$10$JB7py1hkpfYl52MpQEtRhu525i6iCPC7izNUqrrY5VHkfzpLikIb."),
    # Lower-case prefix: "{sha512-crypt}" + openssl passwd -6 test123
    (
        "lowercase-prefix",
        "{sha512-crypt}$6$iM02.SrWXQwKgYxk$XITxV7ArJp6tBVcFsW97RDF13m/LKEOBLuE4yVH0E70BTTeWNqMpCJa"
        "awwBRku6ThaOQsNQEi1PTWhN8TOBfo/",
    ),
    # Courier-style {MD5} (base64 raw MD5): "{MD5}" + printf test123 | openssl dgst -md5
    # -binary | base64
    ("MD5-base64", "{MD5}zAPnR6avu8v4vnZorP6+5Q=="),
    # SSHA with a 2-byte salt, below passlib's 4-byte minimum:
    # python3 -c 'import hashlib,base64,os; s=os.urandom(2);
    #   print("{SSHA}"+base64.b64encode(hashlib.sha1(b"test123"+s).digest()+s).decode())'
    ("SSHA-short-salt", "{SSHA}nC76Mp/Vy8HmU/A3v96y76TNeSXMAw=="),
    # SSHA256 with a 20-byte salt, above passlib's 16-byte maximum (same python3 one-liner)
    (
        "SSHA256-long-salt",
        "{SSHA256}azFwLLPZCoF3ziPLocpKlTGFYdC/6Uhwg+z7B7s2EKcRJKNrKeFm3AcOu0wckYam9clghg==",
    ),
    # --- courier-authlib formats written by Postfix Admin's "authlib" setting ---
    # "{md5raw}" + printf test123 | md5sum
    ("authlib-md5raw", "{md5raw}cc03e747a6afbbcbf8be7668acfebee5"),
    # "{md5}" + printf test123 | openssl dgst -md5 -binary | base64
    ("authlib-md5", "{md5}zAPnR6avu8v4vnZorP6+5Q=="),
    # "{crypt}" + php -r 'echo crypt("test123", "Xy");'
    ("authlib-crypt", "{crypt}XyCYz3uCYMJLk"),
    # "{SHA}" + printf test123 | openssl dgst -sha1 -binary | base64
    ("authlib-SHA", "{SHA}cojt0Pw//L6ToM8G41aOKFIWh7w="),
    # "{sha}" as above, lower-case prefix
    ("authlib-sha-lowercase", "{sha}cojt0Pw//L6ToM8G41aOKFIWh7w="),
]

UNICODE_PASSWORD = "pässwörd€"
UNICODE_VECTORS: list[tuple[str, str]] = [
    # doveadm pw -s SHA512-CRYPT -p 'pässwörd€'
    (
        "unicode-SHA512-CRYPT",
        "{SHA512-CRYPT}$6$YzhfnVUYJ6MxWL7n$d0NYW721UJpSYOHeM6qqHxllhYtq3sLtNOPyElgEkxQ9PraaBXD7/w4"
        "MgH0un6kZgfewYPzHVdhGubP0Qkyeb1",
    ),
    # doveadm pw -s ARGON2ID -p 'pässwörd€'
    (
        "unicode-ARGON2ID",
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$MAwBDlfnJr3F3WZQTZfjMw$wbR8Lpi4p/4HVzcfKRawOjFFam"
        "DSFeD3F7HJ7kYFubI",
    ),
]

# php -r 'echo password_hash(str_repeat("a", 72) . "tail-ignored", PASSWORD_BCRYPT);'
PHP_BCRYPT_LONG = "$2y$10$5T9t.ySa57tcFF44SB1aouLRGCmYDTQ9bgw66CLVF8.jbNcT/zjny"
# php -r 'echo password_hash(str_repeat("a", 71) . "\u{e9}xyz", PASSWORD_BCRYPT);'
# Byte 72 is the first byte of "é", so PHP hashed half a character.
PHP_BCRYPT_SPLIT_UTF8 = "$2y$10$3DC/3uAMQsWxgMAc7sSj6ur.5xY.ylcQud5ksF68jV2IAXwiXx/OS"

ROUND_TRIP_PASSWORD = "Tr0ub4dor&3 pässwörd"

LOOK_ALIKES = "0O1lI"


@pytest.mark.parametrize(("stored"), [v for _, v in VECTORS], ids=[n for n, _ in VECTORS])
def test_vector_verifies_right_password_only(stored: str) -> None:
    assert passwords.verify_password(PASSWORD, stored) is True
    assert passwords.verify_password(WRONG, stored) is False


@pytest.mark.parametrize(
    ("stored"), [v for _, v in UNICODE_VECTORS], ids=[n for n, _ in UNICODE_VECTORS]
)
def test_unicode_vector(stored: str) -> None:
    assert passwords.verify_password(UNICODE_PASSWORD, stored) is True
    assert passwords.verify_password("passwörd€", stored) is False


def test_bcrypt_uses_only_first_72_bytes_like_php() -> None:
    assert passwords.verify_password("a" * 72 + "tail-ignored", PHP_BCRYPT_LONG)
    assert passwords.verify_password("a" * 72 + "any other tail", PHP_BCRYPT_LONG)
    assert passwords.verify_password("a" * 72, PHP_BCRYPT_LONG)
    assert not passwords.verify_password("a" * 71, PHP_BCRYPT_LONG)
    assert passwords.verify_password("a" * 71 + "éxyz", PHP_BCRYPT_SPLIT_UTF8)
    assert not passwords.verify_password("a" * 70 + "é", PHP_BCRYPT_SPLIT_UTF8)


def test_bcrypt_long_password_round_trip() -> None:
    long_password = "ü" * 50
    hashed = passwords.hash_password(long_password, scheme="BLF-CRYPT")
    assert passwords.verify_password(long_password, hashed)
    assert passwords.verify_password("ü" * 36, hashed)
    assert not passwords.verify_password("ü" * 35, hashed)


@pytest.mark.parametrize("scheme", passwords.WRITABLE_SCHEMES)
def test_round_trip(scheme: str) -> None:
    hashed = passwords.hash_password(ROUND_TRIP_PASSWORD, scheme=scheme)
    assert hashed.startswith(f"{{{scheme}}}")
    assert passwords.verify_password(ROUND_TRIP_PASSWORD, hashed)
    assert not passwords.verify_password(ROUND_TRIP_PASSWORD + "x", hashed)
    assert not passwords.needs_rehash(hashed, scheme=scheme)
    # Salted: the same password never hashes to the same string twice.
    assert passwords.hash_password(ROUND_TRIP_PASSWORD, scheme=scheme) != hashed


def _doveadm_accepts(hashed: str, password: str) -> bool:
    # doveadm reads the password from stdin when -p is absent, keeping it off argv.
    result = subprocess.run(
        [require_tool("doveadm"), "pw", "-t", hashed],
        input=(password + "\n").encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return result.returncode == 0


@pytest.mark.parametrize("scheme", passwords.WRITABLE_SCHEMES)
def test_doveadm_accepts_written_hash(scheme: str) -> None:
    hashed = passwords.hash_password(ROUND_TRIP_PASSWORD, scheme=scheme)
    assert _doveadm_accepts(hashed, ROUND_TRIP_PASSWORD)
    assert not _doveadm_accepts(hashed, ROUND_TRIP_PASSWORD + "x")


@pytest.mark.parametrize("scheme", ["ARGON2ID", "ARGON2I", "BLF-CRYPT", "SHA512-CRYPT"])
def test_php_password_verify_accepts_written_hash(scheme: str) -> None:
    php = require_tool("php")
    hashed = passwords.hash_password(ROUND_TRIP_PASSWORD, scheme=scheme)
    crypt_string = hashed.split("}", 1)[1]
    script = 'echo password_verify(rtrim(fgets(STDIN), "\\n"), $argv[1]) ? "yes" : "no";'
    result = subprocess.run(
        [php, "-r", script, crypt_string],
        input=(ROUND_TRIP_PASSWORD + "\n").encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == b"yes"


def test_written_hash_formats() -> None:
    argon2id = passwords.hash_password(PASSWORD, scheme="ARGON2ID")
    assert argon2id.startswith("{ARGON2ID}$argon2id$v=19$m=65536,t=4,p=1$")
    assert passwords.hash_password(PASSWORD, scheme="argon2i").startswith("{ARGON2I}$argon2i$")
    assert passwords.hash_password(PASSWORD, scheme="BLF-CRYPT").startswith("{BLF-CRYPT}$2y$10$")
    sha512 = passwords.hash_password(PASSWORD, scheme="SHA512-CRYPT")
    assert sha512.startswith("{SHA512-CRYPT}$6$")
    assert "rounds=" not in sha512
    assert passwords.hash_password(PASSWORD, scheme="SHA256-CRYPT").startswith("{SHA256-CRYPT}$5$")
    assert passwords.hash_password(PASSWORD, scheme="SSHA512").startswith("{SSHA512}")


def test_check_scheme() -> None:
    assert passwords.check_scheme("argon2id") == "ARGON2ID"
    assert passwords.check_scheme(" BLF-CRYPT ") == "BLF-CRYPT"
    for bad in ("MD5-CRYPT", "PLAIN", "", "{ARGON2ID}", "bogus"):
        with pytest.raises(ValueError, match="password scheme"):
            passwords.check_scheme(bad)
    with pytest.raises(ValueError, match="password scheme"):
        passwords.hash_password(PASSWORD, scheme="PLAIN-MD5")


def test_configured_scheme_is_read_at_call_time() -> None:
    from django.test import override_settings

    with override_settings(VIMBADMIN_PASSWORD_SCHEME="SHA256-CRYPT"):
        hashed = passwords.hash_password(PASSWORD)
        assert hashed.startswith("{SHA256-CRYPT}$5$")
        assert not passwords.needs_rehash(hashed)
    with override_settings(VIMBADMIN_PASSWORD_SCHEME="SHA512-CRYPT"):
        assert passwords.needs_rehash(hashed)
    with override_settings():
        del settings.VIMBADMIN_PASSWORD_SCHEME
        assert passwords.hash_password(PASSWORD).startswith("{ARGON2ID}$argon2id$")
    with override_settings(VIMBADMIN_PASSWORD_SCHEME="MD5"), pytest.raises(ValueError):
        passwords.hash_password(PASSWORD)


def test_unprefixed_plaintext_is_not_accepted() -> None:
    assert passwords.verify_password("test123", "test123") is False
    assert passwords.verify_password("correct horse", "correct horse") is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        " ",
        "{",
        "{}",
        "{}test123",
        "{PLAIN}",
        "{UNKNOWN}test123",
        "{PLAIN.XYZ}test123",
        "{SHA512-CRYPT}",
        "{SHA512-CRYPT}$6$",
        "{SHA512-CRYPT}$6$rounds=abc$salt$hash",
        "{SHA512-CRYPT}$6$VkWUe0WpcI251wCy$xr5G85bglZjAN9NXP6.bPBerriAF3nFSsNc6",
        "{MD5-CRYPT}$6$iM02.SrWXQwKgYxk$XITxV7ArJp6tBVcFsW97RDF13m/LKEOBLuE4yVH0E70BTTeWNqMpCJaawwBR"
        "ku6ThaOQsNQEi1PTWhN8TOBfo/",
        "{BLF-CRYPT}$2y$05$itlO74kIH8lwTY8/1ILvWeoFXJIg",
        "{BLF-CRYPT}$2y$99$itlO74kIH8lwTY8/1ILvWeoFXJIgcQNb/g7hRuIYCulxT/ITJyxv2",
        "$2y$10$short",
        "$2x$10$Y0X3JJr5580RWPh/yMZmCuKp.S2n7tnTEo1H8MwXt9xvYoabsVo56",
        "$1$",
        "$6$x",
        "{BLF-CRYPT.B64}@@@not-base64@@@",
        "{SHA512-CRYPT.B64}/w==",
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$RWSfXB1RXu7Sv5aXIoFWtg$dW9Lp",
        "{ARGON2ID}$argon2id$v=19$m=1,t=1,p=1$$",
        "{ARGON2ID}$argon2d$v=19$m=65536,t=3,p=1$RWSfXB1RXu7Sv5aXIoFWtg$dW9Lp+Fc7bMWt0go5HSPkGetAef"
        "P5TbQH2xhwisGPcw",
        "{ARGON2ID}not-a-hash",
        "{SSHA}!!!",
        "{SSHA}U/fKXzav7lITpi/mL7ib8K3i7k60",
        "{SSHA512}AAAA",
        "{SHA}notbase64",
        "{SHA}cojt0Pw//L6ToM8G41aOKFIWh7",
        "{SHA256.HEX}zz",
        "{MD5}",
        "{MD5}$1$",
        "{md5raw}cc03e747a6afbbcbf8be7668acfebee",
        "{SCRAM-SHA-256}abc",
        "{SCRAM-SHA-256}x,y,z,w",
        "{SCRAM-SHA-256}0,0x2kkfI0AjgLt/7LNOj1LA==,OvZGcrwVtwJl+99nkR3hkVHMyZEnkvYfAhshpruPeB8=,x",
        "cc03e747a6afbbcbf8be7668acfebee",
        "XyCYz3uCYMJL",
        "\x00",
        "{PLAIN}\udcff",
    ],
)
def test_malformed_hash_returns_false(stored: str) -> None:
    assert passwords.verify_password(PASSWORD, stored) is False


def test_odd_inputs_return_false() -> None:
    bcrypt_hash = "$2y$10$Y0X3JJr5580RWPh/yMZmCuKp.S2n7tnTEo1H8MwXt9xvYoabsVo56"
    assert passwords.verify_password("", "{PLAIN}") is False
    assert passwords.verify_password("", bcrypt_hash) is False
    assert passwords.verify_password("test\x00123", bcrypt_hash) is False
    assert passwords.verify_password("\ud800", "{PLAIN}test123") is False
    assert passwords.verify_password(PASSWORD, None) is False  # type: ignore[arg-type]
    assert passwords.verify_password(None, "{PLAIN}test123") is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "stored",
    [
        "$1$oET3iVMt$f7SviWPYkwo7SZaWZmomR/",
        "{MD5-CRYPT}$1$KRvX424j$nIepY3vuIpDopTEOFqw7S.",
        "{PLAIN}test123",
        "cc03e747a6afbbcbf8be7668acfebee5",
        "{PLAIN-MD5}cc03e747a6afbbcbf8be7668acfebee5",
        "$2y$10$Y0X3JJr5580RWPh/yMZmCuKp.S2n7tnTEo1H8MwXt9xvYoabsVo56",
        # Dovecot's default cost 5 is below the configured BCRYPT_ROUNDS.
        "{BLF-CRYPT}$2y$05$itlO74kIH8lwTY8/1ILvWeoFXJIgcQNb/g7hRuIYCulxT/ITJyxv2",
        # Dovecot's ARGON2ID default t=3 is below PHP's t=4.
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$RWSfXB1RXu7Sv5aXIoFWtg$dW9Lp+Fc7bMWt0go5HSPkGetA"
        "efP5TbQH2xhwisGPcw",
        "{ARGON2I}$argon2i$v=19$m=65536,t=4,p=1$ZktXL0hDTS90Ymc4ekhJVw$e+1TkUbh70HQ5ItA4WC76/gkQPEt"
        "pWZJCjOa9/o7fzA",
        "{ARGON2ID.B64}JGFyZ29uMmlkJHY9MTkkbT02NTUzNix0PTMscD0xJHZtRnE0VHE3VFlkWDFpWmdGSjJESmckaU"
        "dWU3c0bkVCSlJzR0NacW9OUi9ybCtPQ3Y1Z0xLeFFTR01vaWNJZzl5VQ==",
        "{ARGON2ID}not-a-hash",
        "",
    ],
)
def test_needs_rehash_true_for_other_formats(stored: str) -> None:
    assert passwords.needs_rehash(stored, scheme="ARGON2ID") is True


def test_needs_rehash_false_for_current_hashes() -> None:
    # Postfix Admin's argon2id hash (php password_hash defaults) already meets the target.
    php_argon2id = (
        "{ARGON2ID}$argon2id$v=19$m=65536,t=4,p=1$RVBBVzY0MEt6SktHVHJDLw$hBZbHGy5igCxV13uIq4l89Klf"
        "xsRg5yk3Ch2zx2AwMg"
    )
    assert passwords.needs_rehash(php_argon2id, scheme="ARGON2ID") is False
    assert passwords.needs_rehash(php_argon2id, scheme="argon2id") is False
    # php password_hash PASSWORD_BCRYPT: cost 10 with "$2y$".
    php_bcrypt = "{BLF-CRYPT}$2y$10$Y0X3JJr5580RWPh/yMZmCuKp.S2n7tnTEo1H8MwXt9xvYoabsVo56"
    assert passwords.needs_rehash(php_bcrypt, scheme="BLF-CRYPT") is False
    dovecot_sha512 = (
        "{SHA512-CRYPT}$6$VkWUe0WpcI251wCy$xr5G85bglZjAN9NXP6.bPBerriAF3nFSsNc6Edf12IgbTEVHqgJzD2"
        "j63SkeM0azsgWoL0Kqt7VbDXLjHu8RH1"
    )
    assert passwords.needs_rehash(dovecot_sha512, scheme="SHA512-CRYPT") is False
    assert passwords.needs_rehash(dovecot_sha512, scheme="ARGON2ID") is True
    sha512_b64 = (
        "{SHA512-CRYPT.B64}JDYkTzBqczdFSEdrcnhpcWNOSyRVSnV1eXgyYWxUQ2F2SEZ5M3JKMlJQOHNVSldPZ3p0TFF"
        "RNFRUTkNNUEhwVGdhbFNvbjBVUnFyZi8zNFplVm9ULklWMXVkV1EyMS5QRXg3UVRJN1drLg=="
    )
    assert passwords.needs_rehash(sha512_b64, scheme="SHA512-CRYPT") is True


def test_needs_rehash_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError):
        passwords.needs_rehash("{PLAIN}test123", scheme="PLAIN")


def test_generate_password_length_and_alphabet() -> None:
    for length in (16, 17, 32, 64):
        generated = passwords.generate_password(length)
        assert len(generated) == length
        assert set(generated) <= set(passwords.UNAMBIGUOUS_ALPHABET)
    assert len(passwords.generate_password()) == 16
    assert not set(LOOK_ALIKES) & set(passwords.UNAMBIGUOUS_ALPHABET)
    # 16 characters must carry at least the 96 bits of `openssl rand -base64 12`.
    assert len(passwords.UNAMBIGUOUS_ALPHABET) ** 16 >= 2**96
    assert len(set(passwords.UNAMBIGUOUS_ALPHABET)) == len(passwords.UNAMBIGUOUS_ALPHABET)


def test_generate_password_is_random_and_usable() -> None:
    generated = {passwords.generate_password() for _ in range(500)}
    assert len(generated) == 500
    # Every alphabet character turns up across 8000 draws from 64 symbols.
    assert set("".join(generated)) == set(passwords.UNAMBIGUOUS_ALPHABET)
    sample = next(iter(generated))
    assert passwords.verify_password(sample, passwords.hash_password(sample, scheme="SSHA512"))


def test_generate_password_refuses_weak_lengths() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        passwords.generate_password(15)
    with pytest.raises(ValueError):
        passwords.generate_password(0)
