"""The staff's web console under /konsol: sign-in, the queue, a ticket, triage, my account.

`page`: the kit, the page of one request (caller, language, CSRF, session) and its
dependencies; `routes`: every console router in one; `sign_in`, `queue`, `ticket`, `account`,
`work`: the routes by page (parse a form, call one use case of staff.py or accounts.py, render
or redirect); `views`: what the pages show besides the use cases' answers; `forms`: form posts
and their errors.
"""
