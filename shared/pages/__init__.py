"""One kit for the server-rendered pages of intake (citizens) and the routing console (staff).

`i18n`: languages and the Translator over gettext catalogues (`locale/<lang>/LC_MESSAGES/
messages.po`, read with Babel at first use); `page`: the page of one request (language, CSRF,
cookies, rendering through Jinja2 with its i18n extension); `forms`: form fields and the
messages of their errors; `templates/`: the frame and form macros both services extend.
"""
