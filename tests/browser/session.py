"""What the browser journeys share: a browser context at a width and in a language, logging in
through the login page, and how far a page runs off the right edge."""


def open_page(browser, live_server, *, width: int, locale: str = "en-US"):
    """A new context (its own cookies) whose browser speaks ``locale``; returns (context, page)."""
    context = browser.new_context(
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},{locale.split('-')[0]};q=0.9"},
        viewport={"width": width, "height": 900},
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def log_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/w/**")


def overflow(page) -> int:
    """Pixels the page is wider than the window: 0 when nothing runs off the right edge."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
