"""Member care: touches planned for occasions, dispatched within consent, quiet hours and caps;
staff callbacks; the interactions log and complaints."""
