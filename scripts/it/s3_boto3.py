#!/usr/bin/env python3
"""The S3 integration checks made with boto3, and the expected view of a
source folder, shared with s3.sh.

  s3_boto3.py expect SRC OUT   build OUT: what S3 can represent of SRC, as
                               aws s3 sync writes it; print nothing
  s3_boto3.py keys SRC         print the expected keys, NUL-separated
  s3_boto3.py check ENDPOINT BUCKET SRC
                               ranged GETs and a paginated listing

What S3 represents of a folder (the rules of s3api's package doc):
regular files we can read (a mode 000 file only as root, as the ingest
reads it); symlinks resolving inside the folder to a regular file, as that
file's bytes; empty directories as a zero-byte "dir/" key. Not objects:
FIFOs, symlinks to directories, absolute, escaping or dangling symlinks.
"""
import os
import shutil
import stat
import sys


def expected(src):
    """Map each expected key to the file holding its bytes ("" for a
    directory marker)."""
    src = os.path.realpath(src)
    keys = {}
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        prefix = "" if rel == "." else rel + "/"
        if rel != "." and not dirnames and not filenames:
            keys[prefix] = ""
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                if os.path.isabs(os.readlink(p)):
                    continue
                real = os.path.realpath(p)
                if real.startswith(src + "/") and os.path.isfile(real):
                    keys[prefix + name] = real
            elif stat.S_ISREG(st.st_mode):
                try:
                    open(p, "rb").close()
                except OSError:
                    continue
                keys[prefix + name] = p
    return keys


def build_expect(src, out):
    """The tree aws s3 sync makes: regular files only (links become copies
    of their targets), and no empty directories, because the CLI skips
    zero-byte keys ending in "/"."""
    for key, path in expected(src).items():
        if key.endswith("/"):
            continue
        dst = os.path.join(out, key)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(path, dst)


def check(endpoint, bucket, src):
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)

    # Ranged GETs against the source bytes: every form S3 knows.
    with open(os.path.join(src, "big.bin"), "rb") as f:
        big = f.read()
    n = len(big)
    cases = [("bytes=0-0", big[0:1]), ("bytes=100-1000", big[100:1001]),
             ("bytes=%d-" % (n - 7), big[n - 7:]), ("bytes=-4096", big[-4096:]),
             ("bytes=1000-%d" % (n * 2), big[1000:]),
             ("bytes=%d-%d" % (n // 2 - 5, n // 2 + 600000), big[n // 2 - 5:n // 2 + 600001])]
    for rng, want in cases:
        r = s3.get_object(Bucket=bucket, Key="big.bin", Range=rng)
        got = r["Body"].read()
        if got != want:
            fail("range %s: %d bytes, want %d" % (rng, len(got), len(want)))
        if r["ResponseMetadata"]["HTTPStatusCode"] != 206 or not r.get("ContentRange", "").startswith("bytes "):
            fail("range %s: status %s, Content-Range %r" % (rng, r["ResponseMetadata"]["HTTPStatusCode"], r.get("ContentRange")))
    try:
        s3.get_object(Bucket=bucket, Key="big.bin", Range="bytes=%d-" % n)
        fail("a range past the end succeeded")
    except s3.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "InvalidRange":
            fail("range past the end: %s" % e.response["Error"])
    try:
        s3.get_object(Bucket=bucket, Key="no/such/key")
        fail("a missing key succeeded")
    except s3.exceptions.NoSuchKey:
        pass

    # A paginated listing (10 keys a page) equals the expected keys, in
    # S3 order (bytes of UTF-8), names of every kind included.
    want = sorted(expected(src), key=lambda k: k.encode())
    got, pages = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 10}):
        pages += 1
        if page["KeyCount"] > 10:
            fail("page of %d keys" % page["KeyCount"])
        got += [o["Key"] for o in page.get("Contents", [])]
    if got != want:
        fail("paginated keys differ:\n got  %r\n want %r" % (got, want))
    if pages != (len(want) + 9) // 10:
        fail("%d pages for %d keys" % (pages, len(want)))

    # Every object's bytes, NFC/NFD and special names included.
    for key, path in expected(src).items():
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with open(path, "rb") if path else open(os.devnull, "rb") as f:
            if body != f.read():
                fail("GET %r differs from %s" % (key, path))

    # Delimiter listing of the root: directories as common prefixes.
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    want_prefixes = sorted({k.split("/")[0] + "/" for k in want if "/" in k}, key=lambda k: k.encode())
    if prefixes != want_prefixes:
        fail("common prefixes %r, want %r" % (prefixes, want_prefixes))

    if failures:
        sys.exit("%d boto3 checks failed" % len(failures))
    print("boto3: %d ranges, %d keys in %d pages, every object's bytes: ok" % (len(cases), len(got), pages))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "expect" and len(sys.argv) == 4:
        build_expect(sys.argv[2], sys.argv[3])
    elif cmd == "keys" and len(sys.argv) == 3:
        sys.stdout.write("".join(k + "\0" for k in sorted(expected(sys.argv[2]), key=lambda k: k.encode())))
    elif cmd == "check" and len(sys.argv) == 5:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
