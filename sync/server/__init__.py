"""The organizer's server: devices enroll, push their events, and the event's totals roll up.

It never imports `ui` or `printing`."""
