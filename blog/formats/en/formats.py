"""English dates as Inkwell always wrote them: "December 3, 2026", times on
the 24-hour clock. Other languages keep Django's formats for their locale
(settings.FORMAT_MODULE_PATH)."""

DATE_FORMAT = "F j, Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "F j, Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
