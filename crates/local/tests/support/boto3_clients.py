"""boto3 against the running stack as application code uses it: DynamoDB's Table resource
(batch_writer, query, update_item), paginators and waiters, transactions, TTL, tags; SQS tags,
an empty receive and ListQueues paging; Lambda's function reads and waiters. Prints OK.

Usage: python boto3_clients.py <endpoint> <environment>
"""
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

endpoint, env = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
ddb = boto3.client("dynamodb", **kw)
resource = boto3.resource("dynamodb", **kw)
sqs = boto3.client("sqs", **kw)
lam = boto3.client("lambda", **kw)


def code(e):
    return e.response["Error"]["Code"]


def expect_error(expected, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        assert code(e) == expected, (code(e), e.response)
        return e.response
    raise AssertionError(f"expected {expected}")


# --- DynamoDB -------------------------------------------------------------------------------
ddb.create_table(
    TableName="orders",
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
               {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                          {"AttributeName": "sk", "AttributeType": "N"}],
    BillingMode="PAY_PER_REQUEST",
    Tags=[{"Key": "team", "Value": "data"}],
)
ddb.get_waiter("table_exists").wait(TableName="orders", WaiterConfig={"Delay": 1})
table = resource.Table("orders")
with table.batch_writer() as batch:  # 60 puts: three BatchWriteItem calls
    for i in range(60):
        batch.put_item(Item={"pk": f"c{i % 3}", "sk": i, "total": Decimal(i) / 2,
                             "tags": {"new"} if i % 2 else {"old"}})
assert ddb.describe_table(TableName="orders")["Table"]["ItemCount"] == 60

got = table.query(KeyConditionExpression=Key("pk").eq("c1") & Key("sk").between(10, 40))
assert [int(i["sk"]) for i in got["Items"]] == list(range(10, 41, 3)), got["Items"]
got = table.query(KeyConditionExpression=Key("pk").eq("c0"), ScanIndexForward=False, Limit=4)
assert [int(i["sk"]) for i in got["Items"]] == [57, 54, 51, 48]
assert got["LastEvaluatedKey"] == {"pk": "c0", "sk": 48}
got = table.query(KeyConditionExpression=Key("pk").eq("c2"),
                  FilterExpression=Attr("total").gt(20) & Attr("tags").contains("new"))
assert sorted(int(i["sk"]) for i in got["Items"]) == [41, 47, 53, 59], got["Items"]
pages = ddb.get_paginator("query").paginate(
    TableName="orders", KeyConditionExpression="pk = :p",
    ExpressionAttributeValues={":p": {"S": "c1"}}, PaginationConfig={"PageSize": 7})
sks = [int(i["sk"]["N"]) for page in pages for i in page["Items"]]
assert sks == list(range(1, 60, 3)), sks
scanned = [i for page in ddb.get_paginator("scan").paginate(
    TableName="orders", PaginationConfig={"PageSize": 11}) for i in page["Items"]]
assert len(scanned) == 60
segments = [ddb.scan(TableName="orders", Segment=s, TotalSegments=4)["Items"] for s in range(4)]
keys = sorted((i["pk"]["S"], int(i["sk"]["N"])) for seg in segments for i in seg)
assert len(keys) == 60 and len(set(keys)) == 60, "a parallel scan returns each item once"

out = table.update_item(
    Key={"pk": "c0", "sk": 0},
    UpdateExpression="SET total = total + :d, hist = list_append(if_not_exists(hist, :e), :h) "
                     "REMOVE tags ADD visits :one",
    ExpressionAttributeValues={":d": Decimal("1.5"), ":e": [], ":h": ["x"], ":one": 1},
    ReturnValues="UPDATED_NEW")
assert out["Attributes"] == {"total": Decimal("1.5"), "hist": ["x"], "visits": 1}, out
item = table.get_item(Key={"pk": "c0", "sk": 0})["Item"]
assert "tags" not in item and item["visits"] == 1
e = expect_error("ConditionalCheckFailedException", table.update_item,
                 Key={"pk": "c0", "sk": 0}, UpdateExpression="SET visits = :v",
                 ConditionExpression="visits > :v", ExpressionAttributeValues={":v": 5})
expect_error("ValidationException", table.update_item, Key={"pk": "c0", "sk": 0},
             UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": "x"})
expect_error("ValidationException", table.put_item, Item={"pk": "c0", "sk": 0},
             Expected={"pk": {"Exists": False}})

got = ddb.batch_get_item(RequestItems={"orders": {
    "Keys": [{"pk": {"S": "c0"}, "sk": {"N": "0"}}, {"pk": {"S": "c1"}, "sk": {"N": "1"}},
             {"pk": {"S": "none"}, "sk": {"N": "1"}}],
    "ProjectionExpression": "sk"}})
assert sorted(int(i["sk"]["N"]) for i in got["Responses"]["orders"]) == [0, 1]
assert got["UnprocessedKeys"] == {}
expect_error("ValidationException", ddb.batch_write_item, RequestItems={"orders": [
    {"PutRequest": {"Item": {"pk": {"S": "z"}, "sk": {"N": str(i)}}}} for i in range(26)]})

resp = expect_error("TransactionCanceledException", ddb.transact_write_items, TransactItems=[
    {"Put": {"TableName": "orders", "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
    {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "c0"}, "sk": {"N": "0"}},
                        "ConditionExpression": "attribute_not_exists(pk)"}}])
assert [r["Code"] for r in resp["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
assert "Item" not in table.get_item(Key={"pk": "t", "sk": 1}), "a cancelled transaction writes nothing"
ddb.transact_write_items(TransactItems=[
    {"Put": {"TableName": "orders", "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
    {"Update": {"TableName": "orders", "Key": {"pk": {"S": "c0"}, "sk": {"N": "0"}},
                "UpdateExpression": "ADD visits :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "c0"}, "sk": {"N": "3"}}}}])
got = ddb.transact_get_items(TransactItems=[
    {"Get": {"TableName": "orders", "Key": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
    {"Get": {"TableName": "orders", "Key": {"pk": {"S": "c0"}, "sk": {"N": "3"}}}},
    {"Get": {"TableName": "orders", "Key": {"pk": {"S": "c0"}, "sk": {"N": "0"}},
             "ProjectionExpression": "visits"}}])["Responses"]
assert got[0]["Item"]["pk"] == {"S": "t"} and got[1] == {} and got[2]["Item"] == {"visits": {"N": "2"}}, got

assert ddb.describe_time_to_live(TableName="orders")["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
ddb.update_time_to_live(TableName="orders",
                        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
ttl = ddb.describe_time_to_live(TableName="orders")["TimeToLiveDescription"]
assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}, ttl
arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
backups = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
expect_error("ValidationException", ddb.create_table, TableName="with-gsi",
             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
             BillingMode="PAY_PER_REQUEST",
             GlobalSecondaryIndexes=[{"IndexName": "by-pk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                      "Projection": {"ProjectionType": "ALL"}}])

# --- SQS ------------------------------------------------------------------------------------
url = sqs.create_queue(QueueName="boto3-q", tags={"team": "data"})["QueueUrl"]
assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "data"}
urls = [u for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1})
        for u in page.get("QueueUrls", [])]
assert url in urls and len(urls) == len(set(urls)) >= 3, urls

# --- Lambda ---------------------------------------------------------------------------------
orchestrator = f"{env}-orchestrator"
lam.get_waiter("function_exists").wait(FunctionName=orchestrator, WaiterConfig={"Delay": 1})
lam.get_waiter("function_active_v2").wait(FunctionName=orchestrator, WaiterConfig={"Delay": 1})
lam.get_waiter("function_active").wait(FunctionName=f"{env}-validate", WaiterConfig={"Delay": 1})
config = lam.get_function_configuration(FunctionName=orchestrator)
assert config["DurableConfig"]["ExecutionTimeout"] > 0, config
assert "DurableConfig" not in lam.get_function_configuration(FunctionName=f"{env}-validate")
names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
    PaginationConfig={"PageSize": 1}) for f in page["Functions"]]
assert sorted(names) == sorted(f"{env}-{n}" for n in ["orchestrator", "validate", "transform", "store"]), names
assert len(lam.list_functions(MaxItems=1000)["Functions"]) == 4
expect_error("ResourceNotFoundException", lam.get_function, FunctionName="nope")
e = expect_error("InvalidParameterValueException", lam.invoke, FunctionName=f"{env}-validate",
                 LogType="Tail", Payload=b"{}")
assert "LogType" in e["Error"]["Message"]
expect_error("ResourceNotFoundException", lam.list_durable_executions_by_function,
             FunctionName="nope")
# ListDurableExecutionsByFunction pages 100 executions by default (the API model's default).
for _ in range(101):
    lam.invoke(FunctionName=orchestrator, InvocationType="Event", Payload=b"{}")
listed = lam.list_durable_executions_by_function(FunctionName=orchestrator)
assert len(listed["DurableExecutions"]) == 100 and "NextMarker" in listed, len(listed["DurableExecutions"])
rest = lam.list_durable_executions_by_function(FunctionName=orchestrator, Marker=listed["NextMarker"])
assert len(rest["DurableExecutions"]) == 1 and "NextMarker" not in rest
print("OK")
