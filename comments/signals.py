"""What the comments app tells the rest of Inkwell (mail, caches, logs).

comment_submitted: a reader's comment was saved (any state); sent with
    `comment` and `request`.
comment_state_changed: a comment moved between states (approved, held,
    spam, trash, confirmed); sent with `comment`, `old_state`, `new_state`
    and `by` (the user who acted, or None for the reader or the system).
"""

from django.dispatch import Signal

comment_submitted = Signal()
comment_state_changed = Signal()
