"""The provider's endpoints under /oidc/ (namespace ``oauth2_provider``, as the library expects).

Only what the service offers is routed: no self-service client registration, no device flow,
no application management pages (relying parties are registered by administrators)."""

from django.urls import path, re_path
from oauth2_provider import views as dot

from dancu.oidc import views

app_name = "oauth2_provider"
urlpatterns = [
    path("authorize/", views.AuthorizeView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectView.as_view(), name="introspect"),
    re_path(r"^\.well-known/openid-configuration/?$", views.DiscoveryView.as_view(),
            name="oidc-connect-discovery-info"),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("logout/", dot.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
