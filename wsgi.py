from loyalty import create_app

app = create_app()
