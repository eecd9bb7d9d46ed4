"""Notifications to patients and staff: an outbox written with the state change, delivered by a worker.

purposes.py   why a message is sent (NotificationPurpose: audience, channels, rule)
models.py     the outbox table (Notification)
compose.py    the one choke point: fills placeholders, names the unit or stays neutral (SEC-protected-sms)
service.py    queue_to_patient / queue_to_staff / notify_staff_of_new_case, in the caller's transaction
transports.py LogTransport, SmtpTransport, HttpSmsTransport, build_transports(config)
delivery.py   deliver_pending(database, transports) and the NotificationWorker loop
cli.py        `flask notifications run [--once]`
"""
