"""What people read: texts and keyboards, in their language. No database: services and handlers
give a view what it shows."""
