"""A pure prefix router: ``/v1/<service>/...`` goes, as it is, to that service.

Bodies are streamed both ways. A service that cannot be reached answers a 503 problem at once,
one that does not answer in time a 504, never a hang.
"""

from __future__ import annotations

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from shared.web.idempotency import CLIENT_HEADER
from shared.web.problems import BadGateway, ServiceUnavailable, StatusProblem

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
#: Request headers the gateway owns: a client may not forge them.
STRIPPED_REQUEST = {"authorization", CLIENT_HEADER.lower(), "x-jalon-scopes"}


class GatewayTimeout(StatusProblem):
    status = 504
    title = "Gateway timeout"
    type_ = "upstream-timeout"


class Proxy:
    def __init__(self, *, connect_timeout_s: float, timeout_s: float):
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
            follow_redirects=False,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(
        self, request: Request, service: str, base_url: str, extra_headers: dict[str, str]
    ) -> Response:
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in STRIPPED_REQUEST
        ]
        headers += list(extra_headers.items())
        client_host = request.client.host if request.client else "unknown"
        headers.append(("x-forwarded-for", client_host))
        url = httpx.URL(base_url + request.url.path, query=request.url.query.encode())
        has_body = request.method not in ("GET", "HEAD", "DELETE", "OPTIONS")
        upstream = self.client.build_request(
            request.method,
            url,
            headers=headers,
            content=request.stream() if has_body else None,
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServiceUnavailable(
                f"the {service} service cannot be reached; retry later",
                service=service,
                headers={"Retry-After": "5"},
            ) from exc
        except httpx.TimeoutException as exc:
            raise GatewayTimeout(f"the {service} service did not answer in time", service=service) from exc
        except httpx.HTTPError as exc:
            raise BadGateway(f"the {service} service failed: {type(exc).__name__}", service=service) from exc
        out_headers = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers=out_headers,
            background=BackgroundTask(response.aclose),
        )
