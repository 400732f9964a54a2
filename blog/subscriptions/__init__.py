"""Subscriptions to new posts by email (#20.3).

models.py    Subscriber, PostMailing (one per post ever mailed) and Delivery
             (one per post and subscriber: what makes a mail go only once)
tokens.py    the signed links in the mails
optin.py     asking to subscribe: the confirmation mail, rate limited
views.py     the form page, confirm, manage and one-click unsubscribe
mailing.py   which posts are mailed and when; the worker's batches, each
             mail at most once
csvimport.py subscribers from a CSV file, with their consent dates
admin.py     the subscribers' list and CSV import, the mailings' progress
"""
