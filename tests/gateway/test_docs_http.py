"""/docs is Swagger UI served by this gateway from a Python package: every
script, style sheet and icon the page loads is local (works offline, no
CDN), and the document it loads offers the bearer scheme for "Try it out"."""

from __future__ import annotations

import re


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "SwaggerUIBundle" in html and 'url: "/openapi.json"' in html
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html), "the page must name no external URL"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    for url in assets:
        assert url.startswith("/docs/assets/")
        resp = client.get(url)
        assert resp.status_code == 200 and len(resp.data) > 100, url
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.mimetype in ("text/javascript", "application/javascript")


def test_only_swagger_files_are_served(client):
    assert client.get("/docs/assets/../app.py").status_code == 404
    assert client.get("/docs/assets/swagger-editor.js").status_code == 404


def test_the_document_offers_the_bearer_scheme(client, spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    assert client.get("/openapi.json").get_json()["openapi"] == "3.1.0"
