"""Who may do what: staff accounts, roles, ways in (password + one-time code today; CPS card and
Pro Santé Connect later), and the sessions they open.

Every way in is an authenticator that turns credentials into a `Principal`; the session model
does not care which one was used (it only records the method), so adding the CPS card is adding
an authenticator, not rewriting login.
"""
