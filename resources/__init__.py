# Marker so the data folder can ship inside a wheel as ``app.resources``; holds no code.
