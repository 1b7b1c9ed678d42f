"""What people read: seat reports, PR comments, chargeback and audit trails."""
