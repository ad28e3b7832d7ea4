//! Reference ERP, WMS and POS/order-management systems.
