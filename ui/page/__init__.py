"""The page and its widgets: sidebar controls, the tabs' views and charts, lessons' cards, presentation mode, live training."""
