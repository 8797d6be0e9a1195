#!/usr/bin/env python3
"""Drive oauthbridge with Python's imaplib, a client stack we did not write.

Usage: imaplib_client.py HOST PORT TLS(imaps|starttls) CAFILE USER PASSWORD AUTH(login|plain) MSGID
The password comes from the environment variable IMAP_PASSWORD instead of
argv when PASSWORD is "-", so it does not show in process listings.

Prints one JSON object per line, so the Go test can follow along:
  {"event": "caps", ...}, {"event": "folders", ...}, {"event": "fetched", ...},
  {"event": "appended", ...}, {"event": "idling"}, {"event": "push", ...}, {"event": "done"}
Between "idling" and "push" the test delivers a message; the script waits up
to 60 s for the server's EXISTS.
"""
import base64
import imaplib
import json
import os
import re
import socket
import ssl
import sys
import time


def emit(event, **kw):
    kw["event"] = event
    print(json.dumps(kw), flush=True)


def connect(host, port, mode, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    if mode == "imaps":
        return imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=60)
    m = imaplib.IMAP4(host, port, timeout=60)
    m.starttls(ssl_context=ctx)
    return m


def idle_for_push(m, timeout=60):
    """RFC 2177 IDLE by hand: imaplib gained idle() only in Python 3.14."""
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    line = m.readline()
    if not line.startswith(b"+"):
        raise RuntimeError("IDLE refused: %r" % line)
    emit("idling")
    m.sock.settimeout(timeout)
    pushed = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = m.readline()
        if not line:
            break
        if re.match(rb"\* \d+ EXISTS", line):
            pushed = line.strip().decode()
            break
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if not line or line.startswith(tag):
            break
    return pushed


def main():
    host, port, mode, cafile, user, password, auth, msgid = sys.argv[1:9]
    if password == "-":
        password = os.environ["IMAP_PASSWORD"]
    m = connect(host, int(port), mode, cafile)
    if auth == "login":
        typ, data = m.login(user, password)
    else:
        creds = b"\0" + user.encode() + b"\0" + password.encode()
        typ, data = m.authenticate("PLAIN", lambda _challenge: creds)
    emit("loggedin", typ=typ, caps=sorted(m.capabilities))

    typ, data = m.list()
    folders = []
    for line in data:
        mm = re.match(rb'\((.*?)\) "(.*?)" (.*)', line)
        name = mm.group(3).decode()
        folders.append(name.strip('"'))
    emit("folders", folders=sorted(folders))

    typ, data = m.select("INBOX")
    exists = int(data[0])
    typ, data = m.uid("SEARCH", "HEADER", "Message-ID", msgid)
    uids = data[0].split()
    if len(uids) != 1:
        raise RuntimeError("search for %s found %r" % (msgid, uids))
    typ, data = m.uid("FETCH", uids[0], "(BODY.PEEK[])")
    raw = data[0][1]
    emit("fetched", uid=uids[0].decode(), exists=exists, body=base64.b64encode(raw).decode())

    marker = "appended-by-imaplib-%d" % os.getpid()
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n"
           "appended through oauthbridge\r\n" % (user, user, marker, marker)).encode()
    typ, data = m.append("Archive", r"(\Seen)", None, msg)
    emit("appended", typ=typ, response=data[0].decode(), marker=marker,
         body=base64.b64encode(msg).decode())

    emit("push", line=idle_for_push(m))
    m.logout()
    emit("done")


if __name__ == "__main__":
    try:
        main()
    except (imaplib.IMAP4.error, OSError, RuntimeError, socket.timeout) as exc:
        emit("error", error="%s: %s" % (type(exc).__name__, exc))
        sys.exit(1)
