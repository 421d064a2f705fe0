// CXO console behaviour
