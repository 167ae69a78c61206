"""Every GraphQL document the hub sends to a Saleor mall, and the subscription queries of
its app manifest. The client refuses any document that is not in ALL_DOCUMENTS, and a test
validates each one against the real Saleor schema (3.23)."""

from __future__ import annotations

# Fragments are pasted into the documents that use them: a document must be self-contained,
# and an unused fragment is a validation error.
_VARIANT = """
fragment GudokVariant on ProductVariant {
  id
  name
  sku
  externalReference
  updatedAt
  metadata { key value }
  channelListings { channel { id slug currencyCode } price { amount currency } }
  stocks { warehouse { id slug } quantity }
}
"""

_PRODUCT = """
fragment GudokProduct on Product {
  id
  name
  slug
  description
  created
  updatedAt
  externalReference
  productType { id name }
  category { id slug }
  metadata { key value }
  media { url }
  channelListings {
    channel { id slug }
    isPublished
    visibleInListings
    isAvailableForPurchase
  }
  productVariants(first: 100) { edges { node { ...GudokVariant } } }
}
""" + _VARIANT

_ORDER = """
fragment GudokOrder on Order {
  id
  number
  status
  paymentStatus
  chargeStatus
  isPaid
  created
  updatedAt
  channel { slug }
  user { id }
  total { gross { amount currency } }
  totalRefunded { amount currency }
  voucherCode
  lines {
    id
    quantity
    quantityFulfilled
    productSku
    productVariantId
    variant { id product { id } }
    unitPrice { gross { amount currency } }
  }
}
"""

_PAGE_INFO = "pageInfo { hasNextPage endCursor }"

# --- reading the mall -------------------------------------------------------------------

APP_IDENTITY = """
query GudokAppIdentity {
  app { id name isActive permissions { code } }
}
"""

SHOP_INFO = """
query GudokShopInfo {
  shop { name version domain { url } channelCurrencies }
  app { id permissions { code } }
}
"""

CHANNEL_CONTEXT = """
query GudokChannelContext($slug: String!) {
  channel(slug: $slug) {
    id
    slug
    isActive
    currencyCode
    warehouses { id slug name }
  }
}
"""

PRODUCT_TYPES = """
query GudokProductTypes($search: String!) {
  productTypes(first: 100, filter: {search: $search}) {
    edges { node { id name slug kind } }
  }
}
"""

CATEGORY_BY_SLUG = """
query GudokCategoryBySlug($slug: String!) {
  categories(first: 1, filter: {slugs: [$slug]}) {
    edges { node { id slug name } }
  }
}
"""

PRODUCT_LOOKUP = """
query GudokProductLookup($id: ID, $slug: String, $externalReference: String) {
  product(id: $id, slug: $slug, externalReference: $externalReference) {
    ...GudokProduct
  }
}
""" + _PRODUCT

PRODUCTS_PAGE = """
query GudokProductsPage($first: Int!, $after: String, $channel: String,
                        $filter: ProductFilterInput) {
  products(first: $first, after: $after, channel: $channel, filter: $filter,
           sortBy: {field: LAST_MODIFIED_AT, direction: ASC}) {
    edges { node { ...GudokProduct } }
    """ + _PAGE_INFO + """
  }
}
""" + _PRODUCT

ORDERS_PAGE = """
query GudokOrdersPage($first: Int!, $after: String, $gte: DateTime, $lte: DateTime) {
  orders(first: $first, after: $after, filter: {updatedAt: {gte: $gte, lte: $lte}},
         sortBy: {field: LAST_MODIFIED_AT, direction: ASC}) {
    edges { node { ...GudokOrder } }
    """ + _PAGE_INFO + """
  }
}
""" + _ORDER

ORDER_FULFILMENT_STATE = """
query GudokOrderFulfilmentState($id: ID!) {
  order(id: $id) {
    id
    status
    lines { id quantity quantityFulfilled quantityToFulfill }
    fulfillments { id status trackingNumber }
    events { type message }
  }
}
"""

# --- changing the mall ------------------------------------------------------------------

PRODUCT_TYPE_CREATE = """
mutation GudokProductTypeCreate($input: ProductTypeInput!) {
  productTypeCreate(input: $input) {
    productType { id name slug }
    errors { field message code }
  }
}
"""

CATEGORY_CREATE = """
mutation GudokCategoryCreate($input: CategoryInput!) {
  categoryCreate(input: $input) {
    category { id slug }
    errors { field message code }
  }
}
"""

PRODUCT_CREATE = """
mutation GudokProductCreate($input: ProductCreateInput!) {
  productCreate(input: $input) {
    product { ...GudokProduct }
    errors { field message code }
  }
}
""" + _PRODUCT

PRODUCT_UPDATE = """
mutation GudokProductUpdate($id: ID!, $input: ProductInput!) {
  productUpdate(id: $id, input: $input) {
    product { id slug updatedAt }
    errors { field message code }
  }
}
"""

PRODUCT_CHANNEL_LISTING_UPDATE = """
mutation GudokProductChannelListingUpdate($id: ID!,
                                          $input: ProductChannelListingUpdateInput!) {
  productChannelListingUpdate(id: $id, input: $input) {
    product { id }
    errors { field message code channels variants }
  }
}
"""

VARIANT_BULK_CREATE = """
mutation GudokVariantBulkCreate($product: ID!, $variants: [ProductVariantBulkCreateInput!]!) {
  productVariantBulkCreate(product: $product, variants: $variants,
                           errorPolicy: REJECT_EVERYTHING) {
    count
    results {
      productVariant { ...GudokVariant }
      errors { field message code }
    }
    errors { field message code index }
  }
}
""" + _VARIANT

VARIANT_UPDATE = """
mutation GudokVariantUpdate($id: ID!, $input: ProductVariantInput!) {
  productVariantUpdate(id: $id, input: $input) {
    productVariant { id sku }
    errors { field message code }
  }
}
"""

VARIANT_DELETE = """
mutation GudokVariantDelete($id: ID!) {
  productVariantDelete(id: $id) {
    productVariant { id }
    errors { field message code }
  }
}
"""

VARIANT_CHANNEL_LISTING_UPDATE = """
mutation GudokVariantChannelListingUpdate($id: ID!,
                                          $input: [ProductVariantChannelListingAddInput!]!) {
  productVariantChannelListingUpdate(id: $id, input: $input) {
    variant { id }
    errors { field message code channels }
  }
}
"""

METADATA_UPDATE = """
mutation GudokMetadataUpdate($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) {
    item { metadata { key value } }
    errors { field message code }
  }
}
"""

VARIANT_STOCKS_UPDATE = """
mutation GudokVariantStocksUpdate($variantId: ID!, $stocks: [StockInput!]!) {
  productVariantStocksUpdate(variantId: $variantId, stocks: $stocks) {
    productVariant { id stocks { warehouse { id } quantity } }
    errors { field message code index }
  }
}
"""

ORDER_FULFIL = """
mutation GudokOrderFulfil($order: ID!, $input: OrderFulfillInput!) {
  orderFulfill(order: $order, input: $input) {
    fulfillments { id status trackingNumber }
    errors { field message code orderLines warehouse }
  }
}
"""

ORDER_NOTE_ADD = """
mutation GudokOrderNoteAdd($order: ID!, $input: OrderNoteInput!) {
  orderNoteAdd(order: $order, input: $input) {
    event { id type message }
    errors { field message code }
  }
}
"""

# --- webhook subscriptions (the app manifest) -------------------------------------------

SUB_PRODUCT_CREATED = """
subscription GudokProductCreated {
  event { issuedAt ... on ProductCreated { product { ...GudokProduct } } }
}
""" + _PRODUCT

SUB_PRODUCT_UPDATED = """
subscription GudokProductUpdated {
  event { issuedAt ... on ProductUpdated { product { ...GudokProduct } } }
}
""" + _PRODUCT

SUB_PRODUCT_DELETED = """
subscription GudokProductDeleted {
  event {
    issuedAt
    ... on ProductDeleted { product { id slug updatedAt metadata { key value } } }
  }
}
"""

SUB_VARIANT_STOCK_UPDATED = """
subscription GudokVariantStockUpdated {
  event {
    issuedAt
    ... on ProductVariantStockUpdated {
      productVariant {
        id
        sku
        updatedAt
        product { id }
        metadata { key value }
        stocks { warehouse { id slug } quantity quantityAllocated }
      }
      warehouse { id slug }
    }
  }
}
"""

SUB_ORDER_CREATED = """
subscription GudokOrderCreated {
  event { issuedAt ... on OrderCreated { order { ...GudokOrder } } }
}
""" + _ORDER

SUB_ORDER_UPDATED = """
subscription GudokOrderUpdated {
  event { issuedAt ... on OrderUpdated { order { ...GudokOrder } } }
}
""" + _ORDER

SUB_ORDER_FULLY_PAID = """
subscription GudokOrderFullyPaid {
  event { issuedAt ... on OrderFullyPaid { order { ...GudokOrder } } }
}
""" + _ORDER

SUB_ORDER_CANCELLED = """
subscription GudokOrderCancelled {
  event { issuedAt ... on OrderCancelled { order { ...GudokOrder } } }
}
""" + _ORDER

SUB_ORDER_FULLY_REFUNDED = """
subscription GudokOrderFullyRefunded {
  event { issuedAt ... on OrderFullyRefunded { order { ...GudokOrder } } }
}
""" + _ORDER

SUB_FULFILLMENT_CREATED = """
subscription GudokFulfillmentCreated {
  event {
    issuedAt
    ... on FulfillmentCreated {
      fulfillment { id status trackingNumber created lines { quantity orderLine { id } } }
      order { ...GudokOrder }
    }
  }
}
""" + _ORDER

# Saleor names the event in the `Saleor-Event` header in lower case.
WEBHOOK_SUBSCRIPTIONS: dict[str, tuple[str, str]] = {
    "product_created": ("PRODUCT_CREATED", SUB_PRODUCT_CREATED),
    "product_updated": ("PRODUCT_UPDATED", SUB_PRODUCT_UPDATED),
    "product_deleted": ("PRODUCT_DELETED", SUB_PRODUCT_DELETED),
    "product_variant_stock_updated": ("PRODUCT_VARIANT_STOCK_UPDATED",
                                      SUB_VARIANT_STOCK_UPDATED),
    "order_created": ("ORDER_CREATED", SUB_ORDER_CREATED),
    "order_updated": ("ORDER_UPDATED", SUB_ORDER_UPDATED),
    "order_fully_paid": ("ORDER_FULLY_PAID", SUB_ORDER_FULLY_PAID),
    "order_cancelled": ("ORDER_CANCELLED", SUB_ORDER_CANCELLED),
    "order_fully_refunded": ("ORDER_FULLY_REFUNDED", SUB_ORDER_FULLY_REFUNDED),
    "fulfillment_created": ("FULFILLMENT_CREATED", SUB_FULFILLMENT_CREATED),
}

ALL_DOCUMENTS: dict[str, str] = {
    name: value for name, value in sorted(globals().items())
    if name.isupper() and not name.startswith("_") and isinstance(value, str)
}
"""Every document by its constant name: queries, mutations and subscriptions."""
