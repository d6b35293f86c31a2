"""The app's screens: setup, dashboard, history, and the modal dialogs."""
