"""CRM connectors: every lead lands in the CRM sales works in, and outcomes flow back.

One small interface (server/crm/base.py), one module per CRM (hubspot.py, salesforce.py,
pipedrive.py). Deliveries are outbox jobs of their own kind (server/crm/outbox.py) sent
by the alert dispatcher and RQ workers; outcomes read back from a CRM, by webhook or by
an incremental poll, go through the one lifecycle service (server/crm/outcomes.py).
"""
