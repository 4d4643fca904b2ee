"""Real objects for the schema fuzzer to reach, made through the public API before it runs.

Without them every operation on an id (a post, a comment, a conversation, a story...) only ever
answers 404 to generated ids. With them, the ids come back in list answers (the explore page, the
conversation list, the notification list...), and the OpenAPI `links` of docs/openapi.yaml and
schemathesis' resource pool carry them into the operations that take them.

usage: fuzz_seed.py BASE_URL seed NAME            seeds around NAME (which must exist)
       fuzz_seed.py BASE_URL sign-in NAME [--register]  prints NAME's access token
Every fuzz account has the same password. Fails loudly.
"""

import json
import struct
import sys
import urllib.request
import uuid
import zlib

base, command, fuzz_name = sys.argv[1:4]
password = "Fuzz-secret-1!"


def png() -> bytes:
    """A valid 1x1 PNG (the API decides a file's type by its bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def call(method, path, token=None, body=None, files=None, fields=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in (fields or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, content in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="seed.png"\r\n'
                f"Content-Type: image/png\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)["data"]
    except urllib.error.HTTPError as err:
        raise SystemExit(f"seeding: {method} {path} answered {err.code}: {err.read()[:300]!r}")


def register(name):
    call("POST", "/api/auth/register", body={
        "email": f"{name}@example.com", "username": name, "password": password,
        "confirmPassword": password, "fullName": "Fuzz User"})
    return sign_in(name)


def sign_in(name):
    token = call("POST", "/api/auth/login", body={"email": f"{name}@example.com", "password": password})["accessToken"]
    return token, call("GET", "/api/users/profile", token)["_id"]


if command == "sign-in":
    token, _ = register(fuzz_name) if "--register" in sys.argv[4:] else sign_in(fuzz_name)
    print(token)
    sys.exit(0)
if command != "seed":
    sys.exit(f"unknown command {command!r}")

fuzz, fuzz_id = sign_in(fuzz_name)
friend, friend_id = register(f"{fuzz_name}_fr")
asker, _ = register(f"{fuzz_name}_as")

# Mutual follows: the timeline, the feeds, followers and following lists have someone in them.
call("POST", f"/api/follow/{friend_id}/follow", fuzz)
call("POST", f"/api/follow/{fuzz_id}/follow", friend)

own_post = call("POST", "/api/posts", fuzz, files={"file": png()}, fields={"caption": f"#fuzz seed @{fuzz_name}_fr"})
friend_post = call("POST", "/api/posts", friend, files={"file": png()}, fields={"caption": "#fuzz friend"})
comment = call("POST", f"/api/posts/{own_post['_id']}/comments", friend, body={"content": "a comment"})
call("POST", f"/api/posts/{own_post['_id']}/comments", fuzz,
     body={"content": "a reply", "parentCommentId": comment["_id"]})
call("PUT", f"/api/posts/{own_post['_id']}/like", friend)
call("POST", f"/api/posts/{friend_post['_id']}/save", fuzz)

# A conversation with a message each way (the fuzz user's unread count and read receipts).
message = call("POST", "/api/messages/messages", friend,
               body={"recipientId": fuzz_id, "messageType": "text", "content": "hello"})
call("POST", "/api/messages/messages", fuzz, body={
    "recipientId": friend_id, "conversationId": message["conversationId"],
    "messageType": "text", "content": "hi back"})

call("POST", "/api/stories", friend, files={"story": png()}, fields={"caption": "a story"})
call("POST", "/api/stories", fuzz, files={"story": png()})
call("POST", "/api/search-history", fuzz, body={"searchedUserId": friend_id, "searchQuery": "friend"})
call("POST", "/api/reports", fuzz, body={"targetType": "post", "targetId": friend_post["_id"], "reason": "spam"})

# A pending follow request to the fuzz user, for the accept and reject routes.
call("PATCH", "/api/users/profile", fuzz, body={"isPrivate": True})
call("POST", f"/api/follow/{fuzz_id}/follow", asker)
