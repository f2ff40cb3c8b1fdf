"""The HTTP layer: multipart bodies the server parses back, errors a learner can act on, the token's reach."""

from __future__ import annotations

import email.parser
import email.policy
import socket
from pathlib import Path

import pytest
from conftest import FakePlatform, json_reply

from academy_client.api import Api, FileUpload, error_messages, multipart_encode
from academy_client.errors import AuthFailed, ConnectionFailed, NotFound, Rejected, ServerError, UsageError


def parse_multipart(body: bytes, content_type: str) -> list[email.message.Message]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return list(message.iter_parts())


def test_multipart_carries_fields_and_file_bytes_unchanged() -> None:
    payload = b"def train(data, run):\r\n    return 1\n\x00\xff binary\n"
    body, content_type = multipart_encode(
        {"params": '{"epochs": 5}'}, [FileUpload("file", "solution.py", payload, "text/x-python")]
    )
    params, upload = parse_multipart(body, content_type)
    assert params.get_param("name", header="content-disposition") == "params"
    assert params.get_payload(decode=True) == b'{"epochs": 5}'
    assert upload.get_filename() == "solution.py"
    assert upload.get_content_type() == "text/x-python"
    assert upload.get_payload(decode=True) == payload


def test_multipart_boundary_never_occurs_in_the_content() -> None:
    trap = b"--academy-fixed\r\n"
    body, content_type = multipart_encode({}, [FileUpload("file", "a.py", trap)], boundary="academy-fixed")
    boundary = content_type.split("boundary=")[1]
    assert boundary != "academy-fixed"
    assert parse_multipart(body, content_type)[0].get_payload(decode=True) == trap


def test_multipart_quotes_cannot_break_out_of_a_filename() -> None:
    body, _ = multipart_encode({}, [FileUpload("file", 'evil".py\r\nX-Injected: 1', b"x")])
    header = body.split(b"\r\n\r\n")[0].decode()
    assert 'filename="evil%22.py%0D%0AX-Injected: 1"' in header
    assert "\r\nX-Injected" not in header


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        (b'{"errors": ["Line 3: syntax error"]}', ["Line 3: syntax error"]),
        (b'{"detail": "Invalid token."}', ["Invalid token."]),
        (b'{"non_field_errors": ["Send exactly one"], "file": ["Empty."]}', ["Send exactly one", "file: Empty."]),
        (b"<html>nope</html>", []),
    ],
)
def test_error_messages_read_the_apis_error_shapes(body: bytes, messages: list[str]) -> None:
    assert error_messages(body) == messages


def test_the_token_is_sent_as_drf_expects(platform: FakePlatform) -> None:
    platform.json("GET", "/api/v1/labs/", 200, [])
    Api(platform.url, "k3y").get("labs/")
    assert platform.requests[-1].headers["Authorization"] == "Token k3y"


def test_the_token_never_goes_to_another_host(platform: FakePlatform) -> None:
    platform.json("GET", "/elsewhere", 200, {})
    api = Api("http://localhost:1", "k3y")  # the platform is elsewhere; this "artifact" link is not it
    api.get(f"{platform.url}/elsewhere")
    assert "Authorization" not in platform.requests[-1].headers


def test_a_refused_token_says_to_sign_in_again(platform: FakePlatform) -> None:
    platform.json("GET", "/api/v1/labs/", 401, {"detail": "Invalid token."})
    with pytest.raises(AuthFailed, match="your token is invalid or revoked: run academy login"):
        Api(platform.url, "old").get("labs/")


def test_drfs_403_for_a_bad_token_reads_as_the_same(platform: FakePlatform) -> None:
    platform.json("GET", "/api/v1/labs/", 403, {"detail": "Invalid token."})
    with pytest.raises(AuthFailed, match="invalid or revoked"):
        Api(platform.url, "old").get("labs/")


def test_a_400_carries_the_platforms_own_messages(platform: FakePlatform) -> None:
    platform.json("POST", "/api/v1/labs/x/submissions/", 400, {"errors": ["The submission is empty."]})
    with pytest.raises(Rejected) as caught:
        Api(platform.url, "k").post_multipart("labs/x/submissions/", {}, [FileUpload("file", "a.py", b"")])
    assert caught.value.errors == ["The submission is empty."]


def test_an_answer_that_is_not_json_means_a_wrong_address(platform: FakePlatform) -> None:
    platform.route("GET", "/api/v1/labs/", (200, {"Content-Type": "text/html"}, b"<html>welcome</html>"))
    with pytest.raises(ServerError, match="text/html, not JSON: is it the platform's address"):
        Api(platform.url, "k").get("labs/")


def test_a_server_error_and_a_missing_page_are_told_apart(platform: FakePlatform) -> None:
    platform.route("GET", "/api/v1/runs/1/", (500, {}, b"boom"))
    with pytest.raises(ServerError, match="HTTP 500"):
        Api(platform.url, "k").get("runs/1/")
    with pytest.raises(NotFound):
        Api(platform.url, "k").get("runs/2/")


def test_connection_refused_is_said_plainly() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailed, match="connection refused"):
        Api(f"http://127.0.0.1:{port}", "k").get("labs/")


def test_an_unknown_host_is_said_plainly() -> None:
    with pytest.raises(ConnectionFailed, match="unknown host"):
        Api("http://no-such-host.invalid", "k", timeout=5).get("labs/")


def test_a_silent_server_times_out(platform: FakePlatform) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        with pytest.raises(ConnectionFailed, match="did not answer in time"):
            Api(f"http://127.0.0.1:{silent.getsockname()[1]}", "k", timeout=0.5).get("labs/")


def test_pages_are_followed_to_the_end(platform: FakePlatform) -> None:
    pages = {1: {"results": [{"id": 1}], "next": "?page=2"}, 2: {"results": [{"id": 2}], "next": None}}
    platform.route("GET", "/api/v1/runs/", lambda r: json_reply(200, pages[int(r.path.split("page=")[1])]))
    assert [run["id"] for run in Api(platform.url, "k").items("runs/")] == [1, 2]


def test_a_download_is_checked_against_its_digest_header(platform: FakePlatform, tmp_path: Path) -> None:
    platform.route("GET", "/api/v1/labs/x/data/", (200, {"X-Dataset-SHA256": "0" * 64}, b"npz bytes"))
    target = tmp_path / "data.npz"
    with pytest.raises(ServerError, match="arrived damaged"):
        Api(platform.url, "k").download("labs/x/data/", target, digest_header="X-Dataset-SHA256")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one is left


def test_a_bad_url_is_a_usage_error() -> None:
    from academy_client.config import url_normalise

    with pytest.raises(UsageError, match="bad URL"):
        url_normalise("localhost:8000")
    assert url_normalise("http://localhost:8000/api/v1/") == "http://localhost:8000"
    assert url_normalise(" https://academy.example.org/ ") == "https://academy.example.org"
