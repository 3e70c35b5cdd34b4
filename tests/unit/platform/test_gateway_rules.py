"""Pure rules of the gateway and the shared web helpers."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from services.gateway import keys, openapi
from shared.apikeys import generate_key, hash_secret, parse_key
from shared.web.pagination import decode_token, encode_token
from shared.web.problems import ValidationFailed, validation_errors


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v1/mrp/runs", "read"),
        ("HEAD", "/v1/mrp/runs", "read"),
        ("POST", "/v1/mrp/runs", "write"),
        ("PUT", "/v1/masterdata/items/A", "write"),
        ("DELETE", "/v1/inventory/reservations/1", "write"),
        ("POST", "/v1/mrp/sales-orders", "orders:write"),
        ("POST", "/v1/mrp/sales-orders/edi", "orders:write"),
        ("PATCH", "/v1/mrp/sales-orders/1/lines/1", "write"),
        ("POST", "/v1/mrp/sales-orders-archive", "write"),
        ("GET", "/v1/gateway/api-keys", "admin"),
        ("POST", "/v1/gateway/api-keys", "admin"),
    ],
)
def test_each_request_needs_the_scope_of_its_method_and_path(method: str, path: str, scope: str) -> None:
    assert keys.required_scope(method, path) == scope


def test_admin_grants_everything_and_write_grants_order_intake_but_not_admin() -> None:
    assert keys.grants(["admin"], "write")
    assert keys.grants(["write"], "orders:write")
    assert not keys.grants(["write"], "admin")
    assert not keys.grants(["orders:write"], "read")
    assert not keys.grants(["read"], "write")


def test_a_generated_key_parses_back_to_its_id_and_only_its_secret_matches() -> None:
    full, key_id, stored = generate_key()
    parsed = parse_key(full)
    assert parsed is not None
    assert parsed.key_id == key_id
    assert keys.secret_matches(parsed.secret, stored)
    assert not keys.secret_matches(parsed.secret + "x", stored)
    assert stored == hash_secret(parsed.secret)
    assert parse_key("not-a-key") is None
    assert keys.from_bootstrap("plain-secret") == ("bootstrap", hash_secret("plain-secret"))


def test_page_tokens_round_trip_and_a_forged_token_is_a_422_naming_the_parameter() -> None:
    token = encode_token(["SKU-9", 42])
    assert decode_token(token) == ["SKU-9", 42]
    with pytest.raises(ValidationFailed) as info:
        decode_token("%%%")
    assert info.value.extras["errors"][0]["field"] == "query.page_token"


def test_request_validation_errors_name_fields_as_paths_into_the_body() -> None:
    exc = RequestValidationError(
        [
            {"loc": ("body", "lines", 2, "qty_per"), "msg": "must be > 0", "type": "greater_than"},
            {"loc": ("query", "page_size"), "msg": "too big", "type": "less_than_equal"},
            {"loc": ("header", "Idempotency-Key"), "msg": "missing", "type": "missing"},
        ]
    )
    fields = [e.field for e in validation_errors(exc)]
    assert fields == ["lines[2].qty_per", "query.page_size", "header.Idempotency-Key"]


def test_merging_documents_renames_clashing_schemas_and_prefixes_operation_ids() -> None:
    base = {"openapi": "3.1.0", "info": {}, "paths": {}, "components": {"schemas": {}}}

    def doc(service: str, page_fields: list[str]) -> dict[str, object]:
        return {
            "paths": {
                f"/v1/{service}/things": {
                    "get": {
                        "operationId": "list_things",
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}
                                }
                            }
                        },
                    }
                }
            },
            "components": {
                "schemas": {
                    "Page": {"type": "object", "properties": {f: {"type": "string"} for f in page_fields}},
                    "Shared": {"type": "string"},
                }
            },
        }

    merged = openapi.merge(base, {"mrp": doc("mrp", ["a"]), "inventory": doc("inventory", ["b"])})
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Page", "mrp_Page", "Shared"}
    ops = {path: item["get"] for path, item in merged["paths"].items()}
    assert ops["/v1/inventory/things"]["operationId"] == "inventory_list_things"
    assert ops["/v1/mrp/things"]["operationId"] == "mrp_list_things"
    ref = ops["/v1/mrp/things"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/mrp_Page"
    assert schemas["mrp_Page"]["properties"] == {"a": {"type": "string"}}
