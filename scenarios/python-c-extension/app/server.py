"""A small web app: POST a text, get its ten most frequent words as JSON (standard library only)."""

import json
from wsgiref.simple_server import make_server

from fastcount import count_words


def app(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    text = environ["wsgi.input"].read(size).decode("utf-8", "replace")
    counts = count_words(text)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    body = json.dumps({"words": len(counts), "top": top}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


if __name__ == "__main__":
    print("listening on :8000", flush=True)
    make_server("", 8000, app).serve_forever()
