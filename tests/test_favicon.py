"""The site has an icon of its own: /favicon.ico leads to it, and every page names it."""

from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_redirects_to_an_icon_that_is_served(client, settings):
    assert finders.find("favicon.svg"), "collectstatic would not ship the icon"
    # WhiteNoise serves from the finders, as in the embedded run (collectstatic's copy otherwise)
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"') and body.rstrip().endswith(b"</svg>")


def test_pages_name_the_icon(client):
    page = client.get("/login/")
    assert page.status_code == 200
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page.content.decode()
