"""Documents rendered without widgets: the subject access pack and a prospect's history (HTML and PDF), and the wording they share."""
