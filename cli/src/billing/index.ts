// @polaris/cli/billing: the billing actions of the `customer`, `plan`, `subscription` and `invoice`
// commands and what they print, for the developer CLI's demo (scripts/src/demo/), so the demo
// goes through exactly the code an operator runs. The operator CLI itself imports the modules.
export { createCustomer, listCustomers } from './customers';
export { createPlan, listPlans, publishPlanVersion } from './plans';
export { createSubscription, listSubscriptions } from './subscriptions';
export { getInvoice, listInvoices, rateInvoice, upcomingInvoice } from './invoice-actions';
export { invoiceText, invoicesText } from './invoice-text';
export { tierBreakdown } from './invoice-tiers';
export { versionText } from './plan-listing';
export type { InvoiceLineView, InvoiceView } from './invoice-view';
