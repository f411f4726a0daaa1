"""The domain (codes, errors, models, lifecycle) and the one service layer every protocol calls."""
