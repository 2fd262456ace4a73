"""The citizens' web pages: the complaint form, the receipt and the tracking page.

`page`: the kit and the page of one request; `routes`: the routes (parse, call, render);
`views`: what the pages show besides the use cases' answers; `forms`: form posts into the
API's input; `service`: the use cases only the web pages have.
"""
